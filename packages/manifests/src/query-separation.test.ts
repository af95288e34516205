import { describe, expect, it } from 'vitest';
import type { EventPipelineSpecInput } from './event-pipeline.schema.ts';
import type { KubeManifest } from './pipeline-objects.ts';
import { testPipeline, testPipelineObjects } from './pipeline.fixture.ts';

function objectsOf(spec: Partial<EventPipelineSpecInput> = {}) {
  const objects = testPipelineObjects(
    testPipeline({ api: { adminTokenSecretRef: { name: 'admin' } }, networkPolicy: { enabled: true }, ...spec }),
  );
  const all = [...objects.services, ...objects.networkPolicies, ...objects.workloads, ...objects.serviceMonitors];
  return {
    names: all.map((o) => `${o.kind}/${o.metadata.name}`),
    find: (kind: string, name: string) => all.find((o) => o.kind === kind && o.metadata.name === name),
  };
}

type Deployment = KubeManifest & {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { spec: { containers: { env: { name: string; value?: string }[]; resources: unknown }[] } };
  };
};
const envOf = (d: KubeManifest | undefined) =>
  Object.fromEntries((d as Deployment).spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value ?? 'secret']));

describe('spec.query.separate', () => {
  it('off (the default): one API Deployment serves everything, nothing of the query pods exists', () => {
    const { names, find } = objectsOf();
    expect(names.filter((n) => n.includes('query'))).toEqual([]);
    expect(envOf(find('Deployment', 'shop-api')).API_SERVE).toBeUndefined();
  });

  it('on: a query Deployment and ClusterIP Service, the API serving ingest only', () => {
    const { names, find } = objectsOf({ query: { separate: true, replicas: 3, resources: { limits: { memory: '1Gi' } } } });
    expect(names.filter((n) => n.includes('query')).sort()).toEqual([
      'Deployment/shop-query',
      'NetworkPolicy/shop-query',
      'PodDisruptionBudget/shop-query',
      'Service/shop-query',
      'Service/shop-query-metrics',
      'ServiceMonitor/shop-query',
    ]);
    expect(envOf(find('Deployment', 'shop-api')).API_SERVE).toBe('ingest');
    const query = find('Deployment', 'shop-query') as Deployment;
    const env = envOf(query);
    expect(env.API_SERVE).toBe('query');
    // The admin token is ingest's business.
    expect(env.EAP_ADMIN_TOKEN).toBeUndefined();
    expect(env.NODE_OPTIONS).toBe('--max-semi-space-size=8 --max-old-space-size=614');
    expect(query.spec.replicas).toBe(3);
    expect(query.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('query');
    const service = find('Service', 'shop-query') as KubeManifest & { spec: Record<string, unknown> };
    expect(service.spec).toMatchObject({
      type: 'ClusterIP',
      selector: query.spec.selector.matchLabels,
      ports: [{ name: 'http', port: 8000, targetPort: 'http', protocol: 'TCP' }],
    });
    // The API Service never selects query pods, nor the query Service API pods.
    expect(JSON.stringify((find('Service', 'shop-api') as KubeManifest & { spec: { selector: object } }).spec.selector)).not.toContain(
      'query',
    );
  });
});
