import { describe, expect, it } from 'vitest';
import { EventPipelineSpecSchema } from './event-pipeline.schema.ts';
import { buildOperatorInstall, OPERATOR_DISCOVERY_RULES, OPERATOR_PIPELINE_RULES } from './operator-install.ts';
import { testPipeline, testPipelineObjects } from './pipeline.fixture.ts';
import type { KubeManifest } from './pipeline-objects.ts';

type ServiceSpec = { type?: string; clusterIP?: string; ports: Array<{ name: string; port: number }> };
const labelsOf = (object: KubeManifest) => (object.metadata.labels ?? {}) as Record<string, string>;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('the admin port of a pipeline', () => {
  it('is not on the API Service, whatever its type; each component has a headless admin-port Service', () => {
    const objects = testPipelineObjects(testPipeline({ api: { service: { type: 'LoadBalancer', port: 443 } } }));
    const [api, ...metrics] = objects.services;
    if (!api) throw new Error('no API Service');
    expect(api.metadata.name).toBe('shop-api');
    expect((api.spec as ServiceSpec).type).toBe('LoadBalancer');
    expect((api.spec as ServiceSpec).ports.map((p) => p.name)).toEqual(['http']);
    expect(metrics.map((s) => s.metadata.name)).toEqual(['shop-api-metrics', 'shop-worker-metrics']);
    for (const service of metrics) {
      expect(service.spec).toMatchObject({ type: 'ClusterIP', clusterIP: 'None' });
      expect((service.spec as ServiceSpec).ports).toEqual([{ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }]);
    }
  });

  it('is what each ServiceMonitor selects: its component’s admin-port Service, never the public one', () => {
    const objects = testPipelineObjects(testPipeline());
    for (const monitor of objects.serviceMonitors) {
      const selector = (monitor.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      const selected = objects.services.filter((service) => matches(selector, labelsOf(service))).map((s) => s.metadata.name);
      expect(selected).toEqual([`${monitor.metadata.name}-metrics`]);
      expect((monitor.spec as { endpoints: Array<{ port: string }> }).endpoints[0]?.port).toBe('metrics');
    }
  });
});

describe('ServiceAccount tokens', () => {
  it('are not mounted into the migration, API or worker pods', () => {
    const objects = testPipelineObjects(testPipeline());
    const podTemplates = [objects.migrationJob, ...objects.workloads.filter((o) => o.kind === 'Deployment')];
    expect(podTemplates).toHaveLength(3);
    for (const object of podTemplates) {
      const podSpec = (object.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      expect(podSpec.automountServiceAccountToken, object.metadata.name).toBe(false);
    }
  });
});

describe('spec.networkPolicy', () => {
  const monitoringPeer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
  };

  it('is off by default: no NetworkPolicy', () => {
    expect(testPipeline().spec.networkPolicy).toEqual({ enabled: false, metricsFrom: [] });
    expect(testPipelineObjects(testPipeline()).networkPolicies).toEqual([]);
  });

  it('lets anyone reach the API port and only metricsFrom reach the admin ports', () => {
    const policies = testPipelineObjects(testPipeline({ networkPolicy: { enabled: true, metricsFrom: [monitoringPeer] } })).networkPolicies;
    const admin = { from: [monitoringPeer], ports: [{ protocol: 'TCP', port: 9464 }] };
    expect(policies.map((p) => [p.metadata.name, p.spec])).toEqual([
      [
        'shop-api',
        {
          podSelector: {
            matchLabels: { 'app.kubernetes.io/name': 'eap', 'app.kubernetes.io/instance': 'shop', 'app.kubernetes.io/component': 'api' },
          },
          policyTypes: ['Ingress'],
          ingress: [{ ports: [{ protocol: 'TCP', port: 8000 }] }, admin],
        },
      ],
      [
        'shop-worker',
        {
          podSelector: {
            matchLabels: { 'app.kubernetes.io/name': 'eap', 'app.kubernetes.io/instance': 'shop', 'app.kubernetes.io/component': 'worker' },
          },
          policyTypes: ['Ingress'],
          ingress: [admin],
        },
      ],
    ]);
  });

  it('with an empty metricsFrom leaves the admin port closed to other pods, not open to all', () => {
    const policies = testPipelineObjects(testPipeline({ networkPolicy: { enabled: true } })).networkPolicies;
    expect(policies.map((p) => (p.spec as { ingress: unknown[] }).ingress)).toEqual([[{ ports: [{ protocol: 'TCP', port: 8000 }] }], []]);
  });

  it('refuses unknown fields in a peer', () => {
    const parsed = EventPipelineSpecSchema.safeParse({
      redis: { urlSecretRef: { name: 'r' } },
      postgres: { urlSecretRef: { name: 'p' } },
      networkPolicy: { enabled: true, metricsFrom: [{ ipBlock: { cidr: '0.0.0.0/0' } }] },
    });
    expect(parsed.success).toBe(false);
  });
});

describe('operator RBAC', () => {
  const rbac = (objects: Array<Record<string, unknown>>, kind: string) =>
    objects.filter((o) => o.kind === kind) as Array<{ metadata: { name: string; namespace?: string }; rules: unknown[] }>;

  it('watching every namespace: the pipeline rules and discovery in the ClusterRole, no other Role but the Lease', () => {
    const objects = buildOperatorInstall();
    expect(rbac(objects, 'ClusterRole')[0]?.rules).toEqual([...OPERATOR_PIPELINE_RULES, ...OPERATOR_DISCOVERY_RULES]);
    expect(rbac(objects, 'Role').map((r) => r.metadata.name)).toEqual(['eap-operator-leader-election']);
  });

  it('watching one namespace: Secrets and every namespaced rule in a Role there; the ClusterRole keeps discovery only', () => {
    const objects = buildOperatorInstall({ namespace: 'ops', watchNamespace: 'shop' });
    const clusterRules = rbac(objects, 'ClusterRole')[0]?.rules as Array<Record<string, unknown>>;
    expect(clusterRules).toEqual(OPERATOR_DISCOVERY_RULES);
    expect(clusterRules.some((rule) => 'resources' in rule)).toBe(false);
    const role = rbac(objects, 'Role').find((r) => r.metadata.namespace === 'shop');
    expect(role?.rules).toEqual(OPERATOR_PIPELINE_RULES);
    expect(role?.rules).toContainEqual({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
    const binding = objects.find((o) => o.kind === 'RoleBinding' && (o.metadata as { namespace: string }).namespace === 'shop');
    expect(binding).toMatchObject({
      roleRef: { kind: 'Role', name: 'eap-operator' },
      subjects: [{ kind: 'ServiceAccount', name: 'eap-operator', namespace: 'ops' }],
    });
  });
});
