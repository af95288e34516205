/**
 * The EventPipeline CRD as users install it (charts/eap-operator/crds/): defaults filled in by the
 * API server, and invalid objects refused by the schema or its CEL rules with clear messages.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { refusalOf, TestKube } from './support/kube-client.ts';
import { createNamespace, installCrd, type PipelineObject, pipelineManifest, pipelineRef } from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
const custom = kube.typed(CustomObjectsApi);
const eventPipelines = () => ({ group: 'eap.dev', version: 'v1alpha1', namespace, plural: 'eventpipelines' });
let namespace: string;
let removeNamespace: () => Promise<void>;

beforeAll(async () => {
  await installCrd(kube);
  ({ name: namespace, remove: removeNamespace } = await createNamespace(kube, 'crd'));
});
afterAll(async () => {
  await removeNamespace?.();
});

/** Creates with a server-side dry run: the API server's answer (HTTP status and object), or a Refusal. */
const tryCreate = (body: object) => custom.createNamespacedCustomObjectWithHttpInfo({ ...eventPipelines(), body, dryRun: 'All' });

describe('EventPipeline CRD', () => {
  it('fills in every documented default', async () => {
    const response = await tryCreate(pipelineManifest(namespace, 'defaults'));
    expect(response.httpStatusCode).toBe(201);
    expect((response.data as PipelineObject).spec).toMatchObject({
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
        batchSize: 2000,
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
    const response = await refusalOf(tryCreate(pipelineManifest(namespace, 'invalid', spec)));
    expect(response.code).toBe(422);
    expect(response.message).toContain(message);
  });

  it('refuses a missing Secret reference', async () => {
    const response = await refusalOf(
      tryCreate({ apiVersion: 'eap.dev/v1alpha1', kind: 'EventPipeline', metadata: { name: 'nosecrets' }, spec: {} }),
    );
    expect(response.code).toBe(422);
    expect(response.message).toMatch(/spec.redis: Required value/);
    expect(response.message).toMatch(/spec.postgres: Required value/);
  });

  it('refuses names longer than 40 characters (child objects add suffixes)', async () => {
    const response = await refusalOf(tryCreate(pipelineManifest(namespace, 'x'.repeat(41))));
    expect(response.code).toBe(422);
    expect(response.message).toContain('metadata.name must be at most 40 characters');
  });

  it('lets shards grow but never shrink (transition rule)', async () => {
    await kube.create(pipelineManifest(namespace, 'sharded', { streams: { shards: 4 } }));
    const grown = await kube.mergePatch<PipelineObject & { spec: { streams: { shards: number } } }>(pipelineRef(namespace, 'sharded'), {
      spec: { streams: { shards: 8 } },
    });
    expect(grown.spec.streams.shards).toBe(8);
    const shrink = await refusalOf(kube.mergePatch(pipelineRef(namespace, 'sharded'), { spec: { streams: { shards: 2 } } }));
    expect(shrink.code).toBe(422);
    expect(shrink.message).toContain('streams.shards cannot be decreased');
  });

  it('has a status subresource: the spec endpoint ignores status and the status endpoint ignores spec', async () => {
    await kube.create(pipelineManifest(namespace, 'statusy'));
    const patched = await kube.mergePatch<PipelineObject>(pipelineRef(namespace, 'statusy'), { status: { observedGeneration: 7 } });
    expect(patched.status?.observedGeneration).toBeUndefined();
    // The /status subresource, through the custom objects client.
    const viaStatus: PipelineObject & { spec: { streams: { shards: number } } } = await custom.patchNamespacedCustomObjectStatus(
      { ...eventPipelines(), name: 'statusy', body: { status: { observedGeneration: 7 }, spec: { streams: { shards: 9 } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(viaStatus.status?.observedGeneration).toBe(7);
    expect(viaStatus.spec.streams.shards).toBe(4);
  });
});
