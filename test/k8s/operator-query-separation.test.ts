/**
 * `spec.query.separate` against the real API server, the operator running with the chart's
 * permissions: turned on, a `<name>-query` Deployment and ClusterIP Service appear, the API
 * Deployment switches to API_SERVE=ingest and ApiAvailable waits for the query pods too; turned
 * off, the query objects are deleted and the API serves everything again. The test plays the
 * kubelet (pod statuses); the real controllers do the rest.
 */
import { childNames, imageReference, migrationJobName } from '@eap/manifests';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, type KubeRef, TestKube } from './support/kube-client.ts';
import {
  finishMigrationJob,
  makeDeploymentAvailable,
  type OperatorNamespace,
  pipelineManifest,
  pipelineRef,
  setUpOperatorNamespace,
  waitForCondition,
} from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));

let setup: OperatorNamespace;
let namespace: string;
const image = { repository: 'registry.example/eap', tag: '1.0.0' };
const name = 'reports';
const names = childNames({ metadata: { name } });
const job = migrationJobName({ metadata: { name } }, imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }));
const ref = {
  deployment: (n: string): KubeRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: n, namespace }),
  service: (n: string): KubeRef => ({ apiVersion: 'v1', kind: 'Service', name: n, namespace }),
  pdb: (n: string): KubeRef => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: n, namespace }),
};
const serveOf = (d: V1Deployment) => d.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'API_SERVE')?.value;

beforeAll(async () => {
  setup = await setUpOperatorNamespace(kube, 'query-split');
  namespace = setup.namespace;
  await kube.create(pipelineManifest(namespace, name, { image, api: { replicas: 1 } }));
  await eventually('the migration Job', () => kube.find({ apiVersion: 'batch/v1', kind: 'Job', name: job, namespace }));
  await finishMigrationJob(kube, namespace, job, 'Succeeded');
  await eventually('the API Deployment', () => kube.find(ref.deployment(names.api)));
  await makeDeploymentAvailable(kube, namespace, names.api);
  await makeDeploymentAvailable(kube, namespace, names.worker);
  await waitForCondition(kube, namespace, name, 'Ready', 'True');
});

afterAll(async () => {
  await setup?.tearDown();
});

describe('spec.query.separate', () => {
  it('is off by default: the API serves everything and no query objects exist', async () => {
    expect(serveOf(await kube.get<V1Deployment>(ref.deployment(names.api)))).toBeUndefined();
    expect(await kube.find(ref.deployment(names.query))).toBeUndefined();
    expect(await kube.find(ref.service(names.query))).toBeUndefined();
  });

  it('on: a query Deployment and ClusterIP Service, the API on API_SERVE=ingest, ApiAvailable waiting for both', async () => {
    await kube.mergePatch(pipelineRef(namespace, name), { spec: { query: { separate: true, replicas: 2 } } });
    const query = await eventually('the query Deployment', () => kube.find<V1Deployment>(ref.deployment(names.query)));
    expect(query.spec?.replicas).toBe(2);
    expect(serveOf(query)).toBe('query');
    expect(query.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'EventPipeline', name, controller: true });
    await eventually('the API Deployment on API_SERVE=ingest', async () =>
      serveOf(await kube.get<V1Deployment>(ref.deployment(names.api))) === 'ingest' ? true : undefined,
    );
    const service = await eventually('the query Service', () => kube.find<V1Service>(ref.service(names.query)));
    expect(service.spec?.type).toBe('ClusterIP');
    expect(service.spec?.selector).toEqual(query.spec?.selector.matchLabels);
    expect(service.spec?.ports?.map((p) => [p.name, p.port])).toEqual([['http', 8000]]);
    expect(await kube.find(ref.pdb(names.query))).toBeDefined();

    // The API's new template rolled out, the query pods not yet available: not Ready.
    await makeDeploymentAvailable(kube, namespace, names.api);
    // The condition may still carry the API rollout's message for a moment (the operator sees the
    // API Deployment's new status first): wait for the one that names the query Deployment.
    const waiting = await eventually('ApiAvailable=False naming the query Deployment', async () => {
      const condition = await waitForCondition(kube, namespace, name, 'ApiAvailable', 'False');
      return condition.message?.includes('query Deployment') ? condition : undefined;
    });
    expect(waiting.message).toContain('query Deployment');
    await makeDeploymentAvailable(kube, namespace, names.query);
    const available = await waitForCondition(kube, namespace, name, 'ApiAvailable', 'True');
    expect(available.message).toMatch(/^API 1\/1 .*; query 2\/2 /);
    await waitForCondition(kube, namespace, name, 'Ready', 'True');
  });

  it('off again: the query Deployment, Services and PDB are deleted and the API serves everything', async () => {
    await kube.mergePatch(pipelineRef(namespace, name), { spec: { query: { separate: false } } });
    await eventually(
      'the query objects to be deleted',
      async () => {
        const left = await Promise.all([
          kube.find(ref.deployment(names.query)),
          kube.find(ref.service(names.query)),
          kube.find(ref.service(names.queryMetrics)),
          kube.find(ref.pdb(names.query)),
        ]);
        return left.every((o) => o === undefined || o.metadata?.deletionTimestamp) ? true : undefined;
      },
      30_000,
    );
    await eventually('the API Deployment without API_SERVE', async () =>
      serveOf(await kube.get<V1Deployment>(ref.deployment(names.api))) === undefined ? true : undefined,
    );
    const services = await kube.list('v1', 'Service', namespace);
    expect(services.map((s) => s.metadata?.name).sort()).toEqual([names.api, names.apiMetrics, names.workerMetrics].sort());
    await makeDeploymentAvailable(kube, namespace, names.api);
    await waitForCondition(kube, namespace, name, 'Ready', 'True');
  });
});
