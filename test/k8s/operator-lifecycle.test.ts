/**
 * The operator against the real API server, running with exactly the permissions of the Helm
 * chart's ClusterRole (a ServiceAccount token): create, migrations gating, workloads, Ready,
 * spec changes, image upgrades (failed and successful), deletion. The test plays the kubelet
 * (pod statuses); the real Job, ReplicaSet, Deployment and garbage-collector controllers do the rest.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { childNames, FIELD_MANAGER, imageReference, migrationJobName } from '@eap/manifests';
import { CoreV1Api, type V1Deployment, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { readToolManifest } from '../../scripts/k8s/tool-manifest.ts';
import { eventually, TestKube } from './support/kube-client.ts';
import {
  finishMigrationJob,
  makeDeploymentAvailable,
  type PipelineObject,
  pipelineManifest,
  pipelineRef,
  waitForCondition,
  type OperatorNamespace,
  setUpOperatorNamespace,
} from './support/operator-harness.ts';

const kubeconfig = inject('kubeconfig');
const kube = TestKube.fromKubeconfig(kubeconfig);
const execFileAsync = promisify(execFile);

let namespace: string;
let setup: OperatorNamespace;
let operator: Operator;

const pipeline = { name: 'shop', image: { repository: 'registry.example/eap', tag: '1.0.0' } };
const jobFor = (tag: string) =>
  migrationJobName(
    { metadata: { name: pipeline.name } },
    imageReference({ ...pipeline.image, tag, pullPolicy: 'IfNotPresent', pullSecrets: [] }),
  );
const names = childNames({ metadata: { name: pipeline.name } });
const deployment = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace });
const job = (name: string) => ({ apiVersion: 'batch/v1', kind: 'Job', name, namespace });
const shop = () => pipelineRef(namespace, pipeline.name);
const container = (object: V1Deployment) => object.spec?.template.spec?.containers[0];
const env = (object: V1Deployment, name: string) => container(object)?.env?.find((e) => e.name === name)?.value;
/** The objects of the kinds a pipeline owns that are not being deleted. */
const notDeleted = async (kinds: Array<[apiVersion: string, kind: string]>) =>
  (await Promise.all(kinds.map(([apiVersion, kind]) => kube.list(apiVersion, kind, namespace))))
    .flat()
    .filter((o) => !o.metadata?.deletionTimestamp);

beforeAll(async () => {
  setup = await setUpOperatorNamespace(kube, 'lifecycle');
  namespace = setup.namespace;
  operator = setup.operator as Operator;
});

afterAll(async () => {
  await setup?.tearDown();
});

describe('EventPipeline lifecycle', () => {
  it('runs the migration Job first and creates no workloads until it succeeds', async () => {
    await kube.create(pipelineManifest(namespace, pipeline.name, { image: pipeline.image, api: { replicas: 2 } }));
    const migration = await eventually('the migration Job', () => kube.find<V1Job>(job(jobFor('1.0.0'))));
    expect(migration.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'EventPipeline', name: pipeline.name, controller: true });
    const condition = await waitForCondition(kube, namespace, pipeline.name, 'MigrationsComplete', 'False', 'MigrationsRunning');
    expect(condition.message).toContain(jobFor('1.0.0'));
    expect(await kube.find(deployment(names.api))).toBeUndefined();
    expect(await kube.find(deployment(names.worker))).toBeUndefined();
    // Services exist from the start (they select nothing until pods come).
    expect(await kube.find({ apiVersion: 'v1', kind: 'Service', name: names.api, namespace })).toBeDefined();
    await waitForCondition(kube, namespace, pipeline.name, 'Ready', 'False', 'MigrationsRunning');
  });

  it('creates the workloads by server-side apply once migrations succeed, and becomes Ready', async () => {
    await finishMigrationJob(kube, namespace, jobFor('1.0.0'), 'Succeeded');
    await waitForCondition(kube, namespace, pipeline.name, 'MigrationsComplete', 'True');
    const api = await eventually('the API Deployment', () => kube.find<V1Deployment>(deployment(names.api)));
    const worker = await eventually('the worker Deployment', () => kube.find<V1Deployment>(deployment(names.worker)));
    expect(api.spec?.replicas).toBe(2);
    const apiContainer = container(api);
    expect(apiContainer?.image).toBe('registry.example/eap:1.0.0');
    expect(apiContainer?.ports?.map((p) => p.name)).toEqual(['http', 'metrics']);
    expect(apiContainer?.livenessProbe).toMatchObject({ httpGet: { path: '/livez', port: 'metrics' } });
    expect(apiContainer?.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    // The worker's replicas belong to the autoscaler (/scale), never to the applied manifest.
    const applied = worker.metadata?.managedFields?.find((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply');
    expect(JSON.stringify(applied?.fieldsV1)).not.toContain('f:replicas');
    expect(JSON.stringify(api.metadata?.managedFields?.find((f) => f.manager === FIELD_MANAGER)?.fieldsV1)).toContain('f:replicas');
    expect(worker.spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(25);
    const pdbs = await kube.list('policy/v1', 'PodDisruptionBudget', namespace);
    expect(pdbs.map((p) => p.metadata?.name).sort()).toEqual([names.api, names.worker]);

    await makeDeploymentAvailable(kube, namespace, names.api);
    await makeDeploymentAvailable(kube, namespace, names.worker);
    await waitForCondition(kube, namespace, pipeline.name, 'Ready', 'True');
    const status = (await kube.get<PipelineObject>(shop())).status;
    expect(status?.servingImage).toBe('registry.example/eap:1.0.0');
    expect(status?.conditions?.find((c) => c.type === 'ApiAvailable')).toMatchObject({ status: 'True', observedGeneration: 1 });
    // ServiceMonitorReady (CRDNotInstalled here, unless the monitoring test installed them) never blocks Ready.
    expect(status?.conditions?.find((c) => c.type === 'ServiceMonitorReady')).toBeDefined();
  });

  it('is what `kubectl wait --for=condition=Ready` waits for, and kubectl shows the printer columns', async () => {
    const { kubectl } = readToolManifest([]).tools;
    if (!kubectl) throw new Error('kubectl is not built: node scripts/k8s/k8s-tools.ts cli');
    const args = ['--kubeconfig', kubeconfig, '-n', namespace];
    const waited = await execFileAsync(kubectl.path, [
      ...args,
      'wait',
      '--for=condition=Ready',
      `eventpipeline/${pipeline.name}`,
      '--timeout=20s',
    ]);
    expect(waited.stdout).toContain('condition met');
    const table = await execFileAsync(kubectl.path, [...args, 'get', 'eventpipelines']);
    expect(table.stdout.split('\n')[0]).toMatch(/NAME\s+READY\s+WORKERS\s+BACKLOG\s+AGE/);
    expect(table.stdout).toMatch(new RegExp(`${pipeline.name}\\s+True`));
  });

  it('reflects a spec change in the children within 2 s', async () => {
    const begin = Date.now();
    await kube.mergePatch(shop(), {
      spec: { api: { replicas: 3, rateLimit: { perSecond: 50 } }, worker: { batchSize: 250 } },
    });
    await eventually(
      'the API and worker Deployments to follow the spec',
      async () => {
        const [api, worker] = await Promise.all([
          kube.get<V1Deployment>(deployment(names.api)),
          kube.get<V1Deployment>(deployment(names.worker)),
        ]);
        return api.spec?.replicas === 3 && env(api, 'RATE_LIMIT_PER_SECOND') === '50' && env(worker, 'WORKER_BATCH_SIZE') === '250'
          ? true
          : undefined;
      },
      2000,
      50,
    );
    const elapsed = Date.now() - begin;
    console.log(`[operator-lifecycle] spec change reached the Deployments after ${elapsed} ms`);
    expect(elapsed).toBeLessThan(2000);
    await waitForCondition(kube, namespace, pipeline.name, 'ApiAvailable', 'False');
    await makeDeploymentAvailable(kube, namespace, names.api);
    await makeDeploymentAvailable(kube, namespace, names.worker);
    await waitForCondition(kube, namespace, pipeline.name, 'Ready', 'True');
  });

  it('keeps the running version serving when the migrations of a new image fail', async () => {
    await kube.mergePatch(shop(), { spec: { image: { tag: '2.0.0-broken' }, migrations: { backoffLimit: 0 } } });
    await eventually('the migration Job of the new image', () => kube.find(job(jobFor('2.0.0-broken'))));
    await finishMigrationJob(kube, namespace, jobFor('2.0.0-broken'), 'Failed');
    const failed = await waitForCondition(kube, namespace, pipeline.name, 'MigrationsComplete', 'False', 'MigrationJobFailed');
    expect(failed.message).toContain('registry.example/eap:1.0.0 keeps serving');
    await waitForCondition(kube, namespace, pipeline.name, 'Ready', 'False', 'MigrationJobFailed');
    for (const name of [names.api, names.worker]) {
      expect(container(await kube.get<V1Deployment>(deployment(name)))?.image).toBe('registry.example/eap:1.0.0');
    }
    const events = await kube.typed(CoreV1Api).listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${pipeline.name}` });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['MigrationStarted', 'MigrationJobFailed']));
  });

  it('moves the workloads to a new image only after its migrations succeeded', async () => {
    await kube.mergePatch(shop(), { spec: { image: { tag: '2.0.1' } } });
    await eventually('the migration Job of 2.0.1', () => kube.find(job(jobFor('2.0.1'))));
    await waitForCondition(kube, namespace, pipeline.name, 'MigrationsComplete', 'False', 'MigrationsRunning');
    expect(container(await kube.get<V1Deployment>(deployment(names.api)))?.image).toBe('registry.example/eap:1.0.0');
    await finishMigrationJob(kube, namespace, jobFor('2.0.1'), 'Succeeded');
    await eventually('both Deployments on 2.0.1', async () => {
      const images = await Promise.all(
        [names.api, names.worker].map(async (n) => container(await kube.get<V1Deployment>(deployment(n)))?.image),
      );
      return images.every((image) => image === 'registry.example/eap:2.0.1') ? true : undefined;
    });
    // Jobs of earlier images are removed once a newer one succeeded.
    await eventually('old migration Jobs to be deleted', async () => {
      const left = (await notDeleted([['batch/v1', 'Job']])).map((j) => j.metadata?.name);
      return left.length === 1 && left[0] === jobFor('2.0.1') ? true : undefined;
    });
    await makeDeploymentAvailable(kube, namespace, names.api);
    await makeDeploymentAvailable(kube, namespace, names.worker);
    const ready = await waitForCondition(kube, namespace, pipeline.name, 'Ready', 'True');
    expect(ready.reason).toBe('PipelineReady');
    expect((await kube.get<PipelineObject>(shop())).status?.servingImage).toBe('registry.example/eap:2.0.1');
  });

  it('serves its metrics and health', async () => {
    const base = `http://127.0.0.1:${operator.metricsPort}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/eap_operator_reconciles_total\{result="success"\} [1-9]/);
    expect(metrics).toContain('eap_operator_reconcile_duration_seconds_bucket');
    expect(metrics).toContain('eap_operator_queue_depth');
  });

  it('is deleted with every child by the garbage collector', async () => {
    await kube.delete(shop());
    await eventually(
      'the garbage collector to delete the children',
      async () => {
        const left = await notDeleted([
          ['apps/v1', 'Deployment'],
          ['v1', 'Service'],
          ['batch/v1', 'Job'],
          ['policy/v1', 'PodDisruptionBudget'],
        ]);
        return left.length === 0 ? true : undefined;
      },
      60_000,
    );
  });
});
