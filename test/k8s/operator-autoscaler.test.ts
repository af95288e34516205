/**
 * The autoscaler loop against a real Redis and the real API server: worker replicas follow the
 * consumer-group backlog (lag + pending over shards), through the Deployment's /scale
 * subresource; a missing group holds the replicas; a Redis outage keeps them and is reported.
 */
import { CONSUMER_GROUP, streamKey } from '@eap/core';
import { childNames, imageReference, migrationJobName } from '@eap/manifests';
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ContainerService, startRedisContainer } from '../support/test-containers.ts';
import { eventually, TestKube } from './support/kube-client.ts';
import {
  finishMigrationJob,
  type PipelineObject,
  pipelineManifest,
  pipelineRef,
  waitForCondition,
  type OperatorNamespace,
  setUpOperatorNamespace,
} from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
const NAME = 'scaled';
const names = childNames({ metadata: { name: NAME } });

let namespace: string;
let setup: OperatorNamespace;
let redisServer: ContainerService;
let redis: Redis;

// The /scale subresource, as the autoscaler writes it.
const workerReplicas = async () =>
  (await kube.typed(AppsV1Api).readNamespacedDeploymentScale({ name: names.worker, namespace })).spec?.replicas;
const status = async () => (await kube.get<PipelineObject>(pipelineRef(namespace, NAME))).status;
const workerDeployment = () => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: names.worker, namespace });
/** The pipeline's WorkersScaled events. */
const scaledEvents = async () =>
  (await kube.typed(CoreV1Api).listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${NAME},reason=WorkersScaled` })).items;

async function waitForReplicas(want: number, timeoutMs = 30_000): Promise<void> {
  try {
    await eventually(`${want} worker replicas`, async () => ((await workerReplicas()) === want ? true : undefined), timeoutMs);
  } catch (error) {
    const now = await status();
    const autoscaler = now?.conditions?.find((c) => c.type === 'AutoscalerHealthy');
    const scaled = (await scaledEvents()).map((e) => `${e.metadata?.creationTimestamp?.toISOString()} ${e.message}`);
    throw new Error(
      `${(error as Error).message}; workers ${JSON.stringify(now?.workers)}, autoscaler ${JSON.stringify(autoscaler)}, scaled ${JSON.stringify(scaled)}`,
    );
  }
}

beforeAll(async () => {
  redisServer = await startRedisContainer();
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // Redis is stopped on purpose in the last test
  setup = await setUpOperatorNamespace(kube, 'autoscale', { redisUrl: redisServer.url });
  namespace = setup.namespace;
  const image = { repository: 'eap', tag: 'scale-test' };
  await kube.create(
    pipelineManifest(namespace, NAME, {
      image,
      streams: { shards: 2 },
      worker: {
        minReplicas: 1,
        maxReplicas: 6,
        targetBacklogPerReplica: 100,
        pollIntervalSeconds: 1,
        scaleDown: { stabilizationSeconds: 3 },
      },
    }),
  );
  const job = migrationJobName({ metadata: { name: NAME } }, imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }));
  await eventually('the migration Job', () => kube.find({ apiVersion: 'batch/v1', kind: 'Job', name: job, namespace }));
  await finishMigrationJob(kube, namespace, job, 'Succeeded');
  await eventually('the worker Deployment', () => kube.find(workerDeployment()));
});

afterAll(async () => {
  await setup?.tearDown();
  redis?.disconnect();
  await redisServer?.remove();
});

describe('worker autoscaling on the consumer-group backlog', () => {
  it('measures an empty backlog (streams not created yet count 0) and stays at minReplicas', async () => {
    const healthy = await waitForCondition(kube, namespace, NAME, 'AutoscalerHealthy', 'True', 'BacklogMeasured');
    expect(healthy.message).toContain('backlog 0');
    expect(await workerReplicas()).toBe(1);
    await eventually('status.workers', async () => ((await status())?.workers?.backlog === 0 ? true : undefined));
  });

  it('scales up at once on lag + pending, by at most max(+4, +100 %), through the /scale subresource', async () => {
    for (const shard of [0, 1]) await redis.xgroup('CREATE', streamKey(shard), CONSUMER_GROUP, '0', 'MKSTREAM');
    const pipeline = redis.pipeline();
    for (let i = 0; i < 450; i++) pipeline.xadd(streamKey(0), '*', 'n', String(i));
    for (let i = 0; i < 120; i++) pipeline.xadd(streamKey(1), '*', 'n', String(i));
    await pipeline.exec();
    // 100 delivered and not acknowledged: they stay in the backlog as pending.
    await redis.xreadgroup('GROUP', CONSUMER_GROUP, 'test-consumer', 'COUNT', 100, 'STREAMS', streamKey(0), '>');
    // backlog 570 → ceil(5.7) = 6, but from 1 replica at most max(1 + 4, 2) = 5 in the first 15 s.
    await waitForReplicas(5);
    const workers = await eventually('status.workers to show the backlog', async () => {
      const current = (await status())?.workers;
      return current?.backlog === 570 ? current : undefined;
    });
    expect(workers).toMatchObject({ desiredReplicas: 6 });
    expect(workers.lastScaleTime).toBeDefined();
    // A spec change re-applies the worker Deployment: the replicas set through /scale stay, since
    // the applied manifest never carries spec.replicas.
    await kube.mergePatch(pipelineRef(namespace, NAME), { spec: { worker: { batchSize: 500 } } });
    await eventually('the worker Deployment to be re-applied', async () => {
      const deployment = await kube.get<V1Deployment>(workerDeployment());
      const batch = deployment.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'WORKER_BATCH_SIZE')?.value;
      return batch === '500' ? deployment : undefined;
    });
    expect(await workerReplicas()).toBeGreaterThanOrEqual(5);
    // After the 15 s period, the rest of the way.
    await waitForReplicas(6, 40_000);
  });

  it('scales down after the stabilization window once the backlog is written', async () => {
    for (const shard of [0, 1]) {
      const entries = (await redis.xrange(streamKey(shard), '-', '+')).map(([id]) => id);
      await redis.xreadgroup('GROUP', CONSUMER_GROUP, 'test-consumer', 'COUNT', 1000, 'STREAMS', streamKey(shard), '>');
      await redis.xack(streamKey(shard), CONSUMER_GROUP, ...entries);
    }
    await waitForReplicas(1);
    expect((await status())?.workers?.backlog).toBe(0);
    const messages = (await scaledEvents()).map((e) => e.message ?? '');
    expect(messages.some((m) => m.startsWith('worker replicas 1 → 5'))).toBe(true);
    expect(messages.some((m) => /worker replicas 6 → 1/.test(m))).toBe(true);
  });

  it('holds the replicas while a shard has no consumer group', async () => {
    await redis.xgroup('DESTROY', streamKey(1), CONSUMER_GROUP);
    for (let i = 0; i < 1000; i++) await redis.xadd(streamKey(0), '*', 'n', String(i));
    const holding = await waitForCondition(kube, namespace, NAME, 'AutoscalerHealthy', 'True', 'BacklogUnknown');
    expect(holding.message).toContain('shard 1 has no consumer group');
    expect(await workerReplicas()).toBe(1);
    await redis.xgroup('CREATE', streamKey(1), CONSUMER_GROUP, '0');
    // With the group back, 1000 + 120 undelivered entries count again: up to maxReplicas.
    await waitForReplicas(6);
  });

  it('keeps the replicas and reports AutoscalerHealthy=False while Redis is down', async () => {
    const before = await workerReplicas();
    await redisServer.stop();
    const unhealthy = await waitForCondition(kube, namespace, NAME, 'AutoscalerHealthy', 'False', 'RedisUnavailable');
    expect(unhealthy.message).toContain(`keeping ${before} replicas`);
    expect(await workerReplicas()).toBe(before);
    await redisServer.start();
    await waitForCondition(kube, namespace, NAME, 'AutoscalerHealthy', 'True', 'BacklogMeasured');
  });
});
