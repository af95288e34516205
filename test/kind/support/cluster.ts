/**
 * What the kind end-to-end tests share: the cluster `eap` that `make kind-up` creates (the
 * global setup creates it, or reuses one that exists), a client for its API server, `kubectl`
 * for exec and logs, SQL in the demo PostgreSQL, and test pipelines of their own (a namespace,
 * a database and a Redis logical database each, on the demo backends).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type ObservableMiddleware, setHeaderMiddleware, type V1Pod } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { eventually, type TestKube } from '../../k8s/support/kube-client.ts';
import { type PipelineObject, pipelineRef } from '../../k8s/support/operator-harness.ts';

export const CLUSTER = 'eap';
export const DEMO_NAMESPACE = 'eap';
export const OPERATOR_NAMESPACE = 'eap-system';
/** The demo API, published by kind-config.yaml on 127.0.0.1:8000 (NodePort 30080). */
export const DEMO_API = 'http://127.0.0.1:8000';
export const DEMO_ADMIN_TOKEN = 'demo-admin-token-change-me';

declare module 'vitest' {
  export interface ProvidedContext {
    /** kubeconfig file of the kind cluster (written by the global setup). */
    kindKubeconfig: string;
    /** Address of the kind node on the Docker network: NodePorts of test pipelines answer there. */
    kindNodeAddress: string;
    /** The kubectl binary (the project's build). */
    kubectl: string;
    /** The kind binary `make kind-up` runs. */
    kindBinary: string;
  }
}

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the kind cluster; rejects with its output on failure. */
export function kubectl(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      inject('kubectl'),
      ['--kubeconfig', inject('kindKubeconfig'), ...args],
      { timeout: options.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Loads a local image into the cluster's node (`kind load docker-image`). */
export function kindLoad(image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(inject('kindBinary'), ['load', 'docker-image', image, '--name', CLUSTER], { timeout: 300_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`kind load docker-image ${image}: ${error.message}\n${stdout}${stderr}`)) : resolve(),
    );
  });
}

/** One SQL statement in the demo PostgreSQL (psql in its pod), as the `eap` user; the output rows. */
export async function sql(database: string, statement: string): Promise<string> {
  const { stdout } = await kubectl([
    '-n',
    DEMO_NAMESPACE,
    'exec',
    'deploy/postgres',
    '--',
    'psql',
    '-U',
    'eap',
    '-d',
    database,
    '-tAc',
    statement,
  ]);
  return stdout.trim();
}

export async function countEvents(database: string, projectId: string): Promise<number> {
  return Number(await sql(database, `SELECT count(*) FROM events WHERE project_id = '${projectId}'`));
}

export async function createProject(apiUrl: string, adminToken: string, name: string): Promise<{ project_id: string; write_key: string }> {
  const res = await fetch(`${apiUrl}/v1/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`POST /v1/projects: ${res.status} ${await res.text()}`);
  return (await res.json()) as { project_id: string; write_key: string };
}

export interface Load {
  /** Events the API accepted (202), which must all end up stored. */
  accepted: number;
  /** Every response status that was not 202 (a refusal), and network errors as 0. */
  refusals: number[];
  stop(): Promise<void>;
}

/**
 * Posts batches of `batchSize` events with unique distinct ids, one request at a time, until
 * stopped. Counts what was accepted and every refusal.
 */
export function startLoad(apiUrl: string, writeKey: string, options: { batchSize?: number; pauseMs?: number; tag?: string } = {}): Load {
  const batchSize = options.batchSize ?? 50;
  const tag = options.tag ?? randomBytes(3).toString('hex');
  let running = true;
  const load: Load = {
    accepted: 0,
    refusals: [],
    stop: async () => {
      running = false;
      await done;
    },
  };
  const done = (async () => {
    for (let round = 0; running; round++) {
      const events = Array.from({ length: batchSize }, (_, i) => ({ event: 'e2e', distinct_id: `${tag}-${round}-${i}` }));
      try {
        const res = await fetch(`${apiUrl}/v1/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json().catch(() => ({}))) as { accepted?: number };
        if (res.status === 202) load.accepted += body.accepted ?? 0;
        else load.refusals.push(res.status);
      } catch {
        load.refusals.push(0);
      }
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  })();
  return load;
}

/** Waits until the database holds exactly `expected` events of the project (never more). */
export async function waitForStored(database: string, projectId: string, expected: number, timeoutMs = 180_000): Promise<void> {
  await eventually(
    `${expected} events stored`,
    async () => {
      const stored = await countEvents(database, projectId);
      if (stored > expected) throw new Error(`${stored} events stored, more than the ${expected} accepted`);
      return stored === expected ? true : undefined;
    },
    timeoutMs,
    1_000,
  );
}

export interface TestPipeline {
  namespace: string;
  name: string;
  database: string;
  apiUrl: string;
  adminToken: string;
  remove(): Promise<void>;
}

const SMALL = { requests: { cpu: '20m', memory: '96Mi' }, limits: { memory: '384Mi' } };

let nextNodePort = 30100 + Math.floor(Math.random() * 500);

/**
 * An EventPipeline in a namespace of its own, on the demo Redis (logical database `redisDb`) and
 * PostgreSQL (a database of its own), its API on a NodePort of the kind node. Waits for Ready.
 */
export async function createTestPipeline(
  kube: TestKube,
  options: { redisDb: number; spec?: Record<string, unknown>; image?: { tag: string } },
): Promise<TestPipeline> {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `eap-e2e-${suffix}`;
  const name = 'pipeline';
  const database = `e2e_${suffix}`;
  const adminToken = randomBytes(12).toString('hex');
  const nodePort = nextNodePort++;
  await sql('eap', `CREATE DATABASE ${database}`);
  const namespaceRef = { apiVersion: 'v1', kind: 'Namespace', name: namespace };
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await kube.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'backends', namespace },
    stringData: {
      'redis-url': `redis://redis.${DEMO_NAMESPACE}.svc:6379/${options.redisDb}`,
      'postgres-url': `postgres://eap:eap@postgres.${DEMO_NAMESPACE}.svc:5432/${database}`,
      'admin-token': adminToken,
    },
  });
  const spec = {
    image: { repository: 'eap', tag: options.image?.tag ?? 'dev', pullPolicy: 'IfNotPresent' },
    redis: { urlSecretRef: { name: 'backends', key: 'redis-url' } },
    postgres: { urlSecretRef: { name: 'backends', key: 'postgres-url' } },
    monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
    ...options.spec,
    api: {
      replicas: 1,
      service: { type: 'NodePort', port: 8000, nodePort },
      adminTokenSecretRef: { name: 'backends', key: 'admin-token' },
      resources: SMALL,
      ...(options.spec?.api as Record<string, unknown> | undefined),
    },
    // The whole cluster is one 2-core node already running the demo: requests stay small so that
    // every replica of a test (scaled, surged during a rollout) can be scheduled.
    worker: { resources: SMALL, ...(options.spec?.worker as Record<string, unknown> | undefined) },
  };
  await kube.create({ apiVersion: 'eap.dev/v1alpha1', kind: 'EventPipeline', metadata: { name, namespace }, spec });
  await waitForPipelineReady(kube, namespace, name);
  return {
    namespace,
    name,
    database,
    apiUrl: `http://${inject('kindNodeAddress')}:${nodePort}`,
    adminToken,
    async remove() {
      await kube.delete(namespaceRef);
      await eventually(`namespace ${namespace} gone`, async () => ((await kube.find(namespaceRef)) ? undefined : true), 180_000, 1_000);
      await sql('eap', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}

export async function waitForPipelineReady(kube: TestKube, namespace: string, name: string, timeoutMs = 300_000): Promise<PipelineObject> {
  return eventually(
    `EventPipeline ${namespace}/${name} Ready`,
    async () => {
      const pipeline = await kube.get<PipelineObject>(pipelineRef(namespace, name));
      const ready = pipeline.status?.conditions?.find((c) => c.type === 'Ready');
      return pipeline.status?.observedGeneration === pipeline.metadata?.generation && ready?.status === 'True' ? pipeline : undefined;
    },
    timeoutMs,
    1_000,
  );
}

export function pods(kube: TestKube, namespace: string, selector: string): Promise<V1Pod[]> {
  return kube.list<V1Pod>('v1', 'Pod', namespace, selector);
}

/**
 * GET through the API server's proxy to a Service (`name` may carry the port, `prometheus:9090`):
 * the JSON answer. The library's proxy call takes a path but no query string of the proxied
 * request: a middleware adds it to the request.
 */
export async function serviceProxyJson<T>(
  kube: TestKube,
  namespace: string,
  name: string,
  path: string,
  query: Record<string, string> = {},
): Promise<T> {
  // The Accept header the proxy call sets anyway: the library's one way to make a middleware.
  const accept = setHeaderMiddleware('Accept', 'application/json, */*;q=0.8');
  const withQuery: ObservableMiddleware = {
    pre: (request) => {
      for (const [key, value] of Object.entries(query)) request.setQueryParam(key, value);
      return accept.pre(request);
    },
    post: (response) => accept.post(response),
  };
  const answer: unknown = await kube
    .typed(CoreV1Api)
    .connectGetNamespacedServiceProxyWithPath({ name, namespace, path }, { middleware: [withQuery], middlewareMergeStrategy: 'append' });
  // Typed as a string, but a JSON answer arrives parsed.
  return (typeof answer === 'string' ? JSON.parse(answer) : answer) as T;
}
