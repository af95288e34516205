/**
 * The EventPipeline CRD as users install it (charts/eap-operator/crds/): defaults filled in by the
 * API server, and invalid objects refused by the schema or its CEL rules with clear messages.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient, type KubeStatus } from './support/kube-client.ts';
import { createNamespace, EP_PATH, installCrd, type PipelineObject, pipelineManifest } from './support/operator-harness.ts';

const kube = KubeClient.fromKubeconfig(inject('kubeconfig'));
let namespace: string;
let removeNamespace: () => Promise<void>;

beforeAll(async () => {
  await installCrd(kube);
  ({ name: namespace, remove: removeNamespace } = await createNamespace(kube, 'crd'));
});
afterAll(async () => {
  await removeNamespace?.();
  kube.close();
});

/** Creates with a server-side dry run and returns the API server's answer. */
const tryCreate = (body: unknown) =>
  kube.request<KubeStatus & PipelineObject>('POST', EP_PATH(namespace), body, { query: { dryRun: 'All' } });

describe('EventPipeline CRD', () => {
  it('fills in every documented default', async () => {
    const response = await tryCreate(pipelineManifest(namespace, 'defaults'));
    expect(response.status).toBe(201);
    expect(response.body.spec).toMatchObject({
      image: { repository: 'ghcr.io/eap-dev/eap', tag: '0.1.0', pullPolicy: 'IfNotPresent', pullSecrets: [] },
      redis: { urlSecretRef: { name: 'eap-redis', key: 'url' } },
      streams: { shards: 4 },
      api: { replicas: 2, service: { type: 'ClusterIP', port: 8000 }, rateLimit: { perSecond: 1000, burst: 2000 } },
      worker: {
        minReplicas: 1,
        maxReplicas: 10,
        targetBacklogPerReplica: 10000,
        pollIntervalSeconds: 15,
        scaleDown: { stabilizationSeconds: 300 },
        batchSize: 1000,
      },
      migrations: { backoffLimit: 2, activeDeadlineSeconds: 600 },
      monitoring: {
        serviceMonitor: { enabled: true, interval: '30s' },
        prometheusRule: { enabled: true },
        grafanaDashboards: { enabled: false },
      },
    });
  });

  it.each([
    [
      'minReplicas above maxReplicas (CEL)',
      { worker: { minReplicas: 5, maxReplicas: 2 } },
      'worker.minReplicas must be less than or equal to worker.maxReplicas',
    ],
    [
      'a nodePort on a ClusterIP Service (CEL)',
      { api: { service: { type: 'ClusterIP', nodePort: 30080 } } },
      'nodePort needs service type NodePort or LoadBalancer',
    ],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, 'spec.image.pullPolicy'],
    ['zero shards', { streams: { shards: 0 } }, 'spec.streams.shards'],
    ['a malformed tag', { image: { tag: 'bad tag!' } }, 'spec.image.tag'],
    ['a malformed resource quantity', { api: { resources: { requests: { cpu: 'lots' } } } }, 'spec.api.resources.requests.cpu'],
    ['a bad scrape interval', { monitoring: { serviceMonitor: { interval: 'soon' } } }, 'spec.monitoring.serviceMonitor.interval'],
  ])('refuses %s', async (_what, spec, message) => {
    const response = await tryCreate(pipelineManifest(namespace, 'invalid', spec));
    expect(response.status).toBe(422);
    expect(response.body.message).toContain(message);
  });

  it('refuses a missing Secret reference', async () => {
    const response = await tryCreate({ apiVersion: 'eap.dev/v1alpha1', kind: 'EventPipeline', metadata: { name: 'nosecrets' }, spec: {} });
    expect(response.status).toBe(422);
    expect(response.body.message).toMatch(/spec.redis: Required value/);
    expect(response.body.message).toMatch(/spec.postgres: Required value/);
  });

  it('refuses names longer than 40 characters (child objects add suffixes)', async () => {
    const response = await tryCreate(pipelineManifest(namespace, 'x'.repeat(41)));
    expect(response.status).toBe(422);
    expect(response.body.message).toContain('metadata.name must be at most 40 characters');
  });

  it('lets shards grow but never shrink (transition rule)', async () => {
    await kube.create(EP_PATH(namespace), pipelineManifest(namespace, 'sharded', { streams: { shards: 4 } }));
    const grow = await kube.request(
      'PATCH',
      EP_PATH(namespace, 'sharded'),
      { spec: { streams: { shards: 8 } } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(grow.status).toBe(200);
    const shrink = await kube.request<KubeStatus>(
      'PATCH',
      EP_PATH(namespace, 'sharded'),
      { spec: { streams: { shards: 2 } } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(shrink.status).toBe(422);
    expect(shrink.body.message).toContain('streams.shards cannot be decreased');
  });

  it('has a status subresource: the spec endpoint ignores status and the status endpoint ignores spec', async () => {
    await kube.create(EP_PATH(namespace), pipelineManifest(namespace, 'statusy'));
    const patched = await kube.mergePatch<PipelineObject>(EP_PATH(namespace, 'statusy'), { status: { observedGeneration: 7 } });
    expect(patched.status?.observedGeneration).toBeUndefined();
    const viaStatus = await kube.mergePatch<PipelineObject & { spec: { streams: { shards: number } } }>(
      `${EP_PATH(namespace, 'statusy')}/status`,
      {
        status: { observedGeneration: 7 },
        spec: { streams: { shards: 9 } },
      },
    );
    expect(viaStatus.status?.observedGeneration).toBe(7);
    expect(viaStatus.spec.streams.shards).toBe(4);
  });
});
