/**
 * Real worker pods under the operator: a backlog scales the worker Deployment up, the new pods
 * drain it, and it scales back down after the stabilization window; a worker pod and the leader
 * operator pod deleted while events arrive lose nothing, and the other operator replica takes
 * over the Lease.
 */
import { AppsV1Api, type V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, TestKube } from '../k8s/support/kube-client.ts';
import {
  createProject,
  createTestPipeline,
  OPERATOR_NAMESPACE,
  pods,
  startLoad,
  type TestPipeline,
  waitForStored,
} from './support/cluster.ts';

const kube = TestKube.fromKubeconfig(inject('kindKubeconfig'));
let pipeline: TestPipeline;
const STABILIZATION_SECONDS = 20;

// The worker Deployment's /scale subresource, which the operator's autoscaler sets.
const workerScale = () =>
  kube.typed(AppsV1Api).readNamespacedDeploymentScale({ name: `${pipeline.name}-worker`, namespace: pipeline.namespace });
const readyWorkers = async () =>
  (await pods(kube, pipeline.namespace, `app.kubernetes.io/instance=${pipeline.name},app.kubernetes.io/component=worker`)).filter(
    (pod) => pod.metadata?.deletionTimestamp === undefined && pod.status?.containerStatuses?.every((c) => c.ready),
  ).length;
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

beforeAll(async () => {
  pipeline = await createTestPipeline(kube, {
    redisDb: 5,
    spec: {
      worker: {
        minReplicas: 1,
        maxReplicas: 3,
        // Small batches and a small target, so that one worker falls behind a burst the API
        // accepts at full speed; short windows so the test sees the whole cycle.
        batchSize: 20,
        targetBacklogPerReplica: 500,
        pollIntervalSeconds: 2,
        scaleDown: { stabilizationSeconds: STABILIZATION_SECONDS },
      },
    },
  });
});

afterAll(async () => {
  await pipeline?.remove();
});

describe('autoscaling with real worker pods', () => {
  it('scales the workers up on a backlog, drains it with the new pods, and back down after the window', async () => {
    expect((await workerScale()).spec?.replicas).toBe(1);
    const project = await createProject(pipeline.apiUrl, pipeline.adminToken, 'burst');
    const burstStarted = Date.now();
    const load = startLoad(pipeline.apiUrl, project.write_key, { batchSize: 500 });
    let scaledUp = '';
    try {
      await eventually(
        'more than one worker replica',
        async () => (((await workerScale()).spec?.replicas ?? 0) > 1 ? true : undefined),
        120_000,
        500,
      );
      scaledUp = seconds(burstStarted);
      await eventually('a second worker pod ready', async () => ((await readyWorkers()) > 1 ? true : undefined), 180_000, 500);
    } finally {
      await load.stop();
    }
    expect(load.refusals).toEqual([]);
    const podsUp = seconds(burstStarted);
    await waitForStored(pipeline.database, project.project_id, load.accepted);
    const drained = seconds(burstStarted);
    const drainedAt = Date.now();
    await eventually(
      'one worker replica again',
      async () => (((await workerScale()).spec?.replicas ?? 0) === 1 ? true : undefined),
      180_000,
      1_000,
    );
    const scaledDown = seconds(drainedAt);
    console.log(
      `autoscaling: ${load.accepted} events; scaled up ${scaledUp} after the burst began, a second pod ready at ${podsUp}, ` +
        `backlog stored at ${drained}, back to 1 replica ${scaledDown} after the drain (window ${STABILIZATION_SECONDS} s)`,
    );
    // Not at once: scaling down waits for a whole window of low recommendations (which began a
    // little before the last row was counted, so half the window is the safe lower bound here;
    // without the window it would follow the next 2 s poll).
    expect(Date.now() - drainedAt).toBeGreaterThanOrEqual((STABILIZATION_SECONDS * 1000) / 2);
  });
});

describe('pods deleted under load', () => {
  it('loses nothing when a worker pod and the leader operator pod are deleted, and the other operator takes over', async () => {
    const project = await createProject(pipeline.apiUrl, pipeline.adminToken, 'faults');
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'eap-operator-leader', namespace: OPERATOR_NAMESPACE };
    const holder = async () => (await kube.get<V1Lease>(lease)).spec?.holderIdentity;
    const leader = await holder();
    expect(leader).toBeTruthy();

    const load = startLoad(pipeline.apiUrl, project.write_key, { batchSize: 100, pauseMs: 20 });
    try {
      await eventually('some events accepted', async () => (load.accepted > 1_000 ? true : undefined), 60_000);
      const [worker] = await pods(
        kube,
        pipeline.namespace,
        `app.kubernetes.io/instance=${pipeline.name},app.kubernetes.io/component=worker`,
      );
      const pod = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'Pod', name, namespace });
      await kube.delete(pod(pipeline.namespace, worker?.metadata?.name ?? ''), { gracePeriodSeconds: 0 });
      await kube.delete(pod(OPERATOR_NAMESPACE, leader ?? ''), { gracePeriodSeconds: 0 });
      const deleted = Date.now();
      const next = await eventually(
        'another operator replica holding the Lease',
        async () => {
          const now = await holder();
          return now && now !== leader ? now : undefined;
        },
        120_000,
        500,
      );
      console.log(`operator failover: ${next} took the Lease ${seconds(deleted)} after ${leader} was deleted`);
      await eventually('a worker pod ready again', async () => ((await readyWorkers()) >= 1 ? true : undefined), 180_000, 500);
      const accepted = load.accepted;
      await eventually(
        'more events accepted after the deletions',
        async () => (load.accepted > accepted + 1_000 ? true : undefined),
        60_000,
      );
    } finally {
      await load.stop();
    }
    expect(load.refusals).toEqual([]);
    await waitForStored(pipeline.database, project.project_id, load.accepted);
  });
});
