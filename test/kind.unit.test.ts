import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REDIS_AOF_REWRITE_MIN_SIZE } from '@eap/core';
import { EventPipelineSpecSchema } from '@eap/manifests';

// The kind cluster and the demo manifests, checked statically in a second: the cluster's shape,
// that the host ports it publishes are the NodePorts the manifests use and the ports the README
// documents, and that the demo objects reference each other correctly. test/kind/ runs them.
const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

interface PortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress?: string;
  protocol?: string;
}
interface KindNode {
  role: string;
  extraPortMappings?: PortMapping[];
}
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects of many kinds, checked field by field
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: any };

const cluster = parse(read('kind-config.yaml')) as {
  kind: string;
  apiVersion: string;
  networking?: { apiServerAddress?: string };
  nodes: KindNode[];
};
const mappings = cluster.nodes.flatMap((n) => n.extraPortMappings ?? []);
const hostPortOf = (containerPort: number) => mappings.find((m) => m.containerPort === containerPort)?.hostPort;

const manifestFiles = readdirSync(`${root}deploy/kind`)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const objects: K8sObject[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(read(`deploy/kind/${file}`)).map((doc) => {
    expect(doc.errors, file).toEqual([]);
    return doc.toJS() as K8sObject;
  }),
);
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const pipeline = find('EventPipeline', 'demo')!;
const grafanaService = find('Service', 'grafana')!;

describe('kind-config.yaml', () => {
  it('is a kind cluster with one control-plane and one worker', () => {
    expect(cluster.kind).toBe('Cluster');
    expect(cluster.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(cluster.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker']);
    // Port mappings live on the control-plane node, whose container kind publishes on the host.
    expect(cluster.nodes[0]!.extraPortMappings).toHaveLength(2);
    expect(cluster.nodes[1]!.extraPortMappings).toBeUndefined();
  });

  it('publishes NodePorts (30000-32767) on distinct host ports', () => {
    for (const m of mappings) {
      expect(m.containerPort).toBeGreaterThanOrEqual(30000);
      expect(m.containerPort).toBeLessThanOrEqual(32767);
      expect(m.protocol ?? 'TCP').toBe('TCP');
    }
    expect(new Set(mappings.map((m) => m.hostPort)).size).toBe(mappings.length);
  });

  it('maps the API and Grafana NodePorts of the demo manifests to the ports the README documents', () => {
    expect(pipeline.spec.api.service).toMatchObject({ type: 'NodePort', port: 8000 });
    const apiNodePort = pipeline.spec.api.service.nodePort as number;
    expect(grafanaService.spec.type).toBe('NodePort');
    const grafanaNodePort = grafanaService.spec.ports[0].nodePort as number;
    expect(hostPortOf(apiNodePort)).toBe(8000);
    expect(hostPortOf(grafanaNodePort)).toBe(3000);

    const readme = read('README.md');
    for (const [nodePort, hostPort] of [
      [apiNodePort, 8000],
      [grafanaNodePort, 3000],
    ]) {
      // e.g. "publishes NodePort 30080 (the demo pipeline's API Service) on 127.0.0.1:8000"
      expect(readme).toMatch(new RegExp(`NodePort\\s${nodePort}\\s[^.]*?on\\s(?:localhost|127\\.0\\.0\\.1):${hostPort}\\b`));
    }
    // `make kind-up` creates the cluster from the config scripts/containers/kind.ts chooses:
    // kind-config.yaml itself, or the single-node variant derived from it without a registry.
    expect(read('Makefile')).toMatch(/config=\$\$\(\$\(KIND_SCRIPT\) config\).*\n.*create cluster --name eap --config "\$\$config"/);
    expect(read('scripts/containers/kind.ts')).toContain("join(ROOT, 'kind-config.yaml')");
  });

  it('publishes the API server and the ports on 127.0.0.1 only', () => {
    expect(cluster.networking?.apiServerAddress).toBe('127.0.0.1');
    for (const m of mappings) expect(m.listenAddress, `host port ${m.hostPort}`).toBe('127.0.0.1');
  });
});

describe('deploy/kind demo manifests', () => {
  it('create the namespace first, then everything inside it', () => {
    expect(manifestFiles[0]).toBe('00-namespace.yaml');
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'eap' } });
    for (const o of objects.slice(1)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('eap');
  });

  it('run Redis with AOF and without eviction, and PostgreSQL with the password of the secret', () => {
    const redisArgs = find('Deployment', 'redis')!.spec.template.spec.containers[0].args.join(' ');
    expect(redisArgs).toMatch(/--appendonly yes/);
    expect(redisArgs).toContain(`--auto-aof-rewrite-min-size ${REDIS_AOF_REWRITE_MIN_SIZE}`);
    expect(redisArgs).toMatch(/--maxmemory \d+mb --maxmemory-policy noeviction/);
    // The ceiling sits below the container's memory limit, so Redis refuses writes before it is killed.
    const redis = find('Deployment', 'redis')!.spec.template.spec.containers[0];
    const ceilingMb = Number(/--maxmemory (\d+)mb/.exec(redisArgs)![1]);
    expect(ceilingMb).toBeLessThan(Number(/^(\d+)Mi$/.exec(redis.resources.limits.memory)![1]) * 0.75);
    const postgresEnv = find('Deployment', 'postgres')!.spec.template.spec.containers[0].env;
    expect(postgresEnv).toContainEqual({
      name: 'POSTGRES_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'eap-backends', key: 'postgres-password' } },
    });
  });

  it('give the EventPipeline secret references that exist and point at the demo services', () => {
    expect(pipeline.apiVersion).toBe('eap.dev/v1alpha1');
    // The sample is valid for the CRD's schema (generated from the same zod spec).
    const parsed = EventPipelineSpecSchema.safeParse(pipeline.spec);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(pipeline.spec.image).toEqual({ repository: 'eap', tag: 'dev', pullPolicy: 'IfNotPresent' });
    expect(read('scripts/containers/images.ts')).toContain("['eap:dev', 'Dockerfile']");
    expect(pipeline.spec.worker).toMatchObject({ minReplicas: 1, maxReplicas: 4 });
    const urls: Record<string, RegExp> = {
      redis: /^redis:\/\/redis\.eap\.svc:6379\//,
      postgres: /^postgres:\/\/eap:eap@postgres\.eap\.svc:5432\/eap$/,
    };
    const adminToken = pipeline.spec.api.adminTokenSecretRef as { name: string; key: string };
    expect(find('Secret', adminToken.name)!.stringData[adminToken.key].length).toBeGreaterThanOrEqual(16);
    expect(read('README.md')).toContain(`Bearer ${find('Secret', adminToken.name)!.stringData[adminToken.key]}`);
    for (const backend of ['redis', 'postgres']) {
      const ref = pipeline.spec[backend].urlSecretRef as { name: string; key: string };
      const secret = find('Secret', ref.name);
      expect(secret, ref.name).toBeDefined();
      expect(secret!.stringData[ref.key]).toMatch(urls[backend]!);
      expect(find('Service', backend), backend).toBeDefined();
    }
  });

  it('mount only ConfigMaps that the manifests define or `make deploy` creates', () => {
    const makefile = read('Makefile');
    const configMaps = objects
      .filter((o) => o.kind === 'Deployment')
      .flatMap((d) => (d.spec.template.spec.volumes ?? []) as { configMap?: { name: string } }[])
      .flatMap((v) => (v.configMap ? [v.configMap.name] : []));
    expect(configMaps.length).toBeGreaterThan(3);
    for (const name of configMaps) {
      expect(find('ConfigMap', name) !== undefined || makefile.includes(`create configmap ${name} `), name).toBe(true);
    }
  });

  it('run Grafana with anonymous Viewer access at most, and its PostgreSQL datasource as the read-only role', () => {
    const pod = find('Deployment', 'grafana')!.spec.template.spec;
    const env = Object.fromEntries(pod.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    expect(env.GF_USERS_ALLOW_SIGN_UP).toBe('false');
    const secretKeys = (container: { env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> }) =>
      container.env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.valueFrom!.secretKeyRef!);
    for (const ref of [...secretKeys(pod.containers[0]), ...secretKeys(pod.initContainers[0])]) {
      expect(find('Secret', ref.name)?.stringData[ref.key], `${ref.name}/${ref.key}`).toBeDefined();
    }
    expect(pod.containers[0].env.map((e: { name: string }) => e.name)).toContain('GRAFANA_DB_PASSWORD');
    expect(pod.initContainers[0].command.join(' ')).toContain('-f /sql/grafana-reader.sql');
  });

  it('let the API accept the printed admin token only because the pipeline says this is a demo', () => {
    expect(pipeline.spec.api.allowDemoAdminToken).toBe(true);
  });
});
