/**
 * The operator installed for one namespace (chart value watchNamespace), against the real API
 * server: it runs with exactly the RBAC the chart renders then — its Lease Role in its own
 * namespace, the pipeline rules as a Role in the watched namespace, and a ClusterRole with
 * discovery only — and still takes a pipeline to Ready, while Secrets and pipelines of every other
 * namespace stay out of its reach.
 */
import { childNames, imageReference, migrationJobName } from '@eap/manifests';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, KubeClient, type KubeObject } from './support/kube-client.ts';
import {
  createNamespace,
  createUrlSecrets,
  EP_PATH,
  finishMigrationJob,
  installCrd,
  type Manifest,
  makeDeploymentAvailable,
  operatorClientWithChartRbac,
  pipelineManifest,
  randomSuffix,
  startOperatorInProcess,
  waitForCondition,
} from './support/operator-harness.ts';

const kube = KubeClient.fromKubeconfig(inject('kubeconfig'));
const NAME = 'scoped';
const names = childNames({ metadata: { name: NAME, namespace: '' } } as never);
const image = { repository: 'registry.example/eap', tag: '1.0.0' };

let operatorNamespace: { name: string; remove: () => Promise<void> };
let watched: { name: string; remove: () => Promise<void> };
let elsewhere: { name: string; remove: () => Promise<void> };
let rbac: Awaited<ReturnType<typeof operatorClientWithChartRbac>>;
let operator: Operator | undefined;

beforeAll(async () => {
  await installCrd(kube);
  operatorNamespace = await createNamespace(kube, 'scoped-op');
  watched = await createNamespace(kube, 'scoped-apps');
  elsewhere = await createNamespace(kube, 'scoped-other');
  await createUrlSecrets(kube, watched.name);
  await createUrlSecrets(kube, elsewhere.name);
  // A release name of its own: its ClusterRole differs from the all-namespaces one other files share.
  rbac = await operatorClientWithChartRbac(kube, operatorNamespace.name, {
    releaseName: `scoped-${randomSuffix()}`,
    sets: [`watchNamespace=${watched.name}`],
  });
});

afterAll(async () => {
  await operator?.stop();
  await rbac?.cleanup();
  for (const namespace of [watched, elsewhere, operatorNamespace]) await namespace?.remove();
  kube.close();
});

describe('the operator watching one namespace', () => {
  it('gets from the chart a ClusterRole without any namespaced rule, and a Role in the watched namespace', () => {
    const clusterRole = rbac.rendered.find((o) => o.kind === 'ClusterRole') as Manifest & { rules: Array<Record<string, unknown>> };
    expect(clusterRole.rules.length).toBeGreaterThan(0);
    for (const rule of clusterRole.rules) expect(Object.keys(rule).sort()).toEqual(['nonResourceURLs', 'verbs']);
    const roles = rbac.rendered.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding');
    expect(roles.map((o) => `${o.kind} ${o.metadata.namespace}`).sort()).toEqual(
      [
        `Role ${operatorNamespace.name}`,
        `Role ${watched.name}`,
        `RoleBinding ${operatorNamespace.name}`,
        `RoleBinding ${watched.name}`,
      ].sort(),
    );
    const pipelineRules = (roles.find((o) => o.kind === 'Role' && o.metadata.namespace === watched.name) as unknown as { rules: unknown[] })
      .rules;
    expect(pipelineRules).toContainEqual({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
  });

  it('can read Secrets and pipelines of the watched namespace only', async () => {
    expect((await rbac.client.request('GET', `/api/v1/namespaces/${watched.name}/secrets/eap-redis`)).status).toBe(200);
    expect((await rbac.client.request('GET', `/api/v1/namespaces/${elsewhere.name}/secrets/eap-redis`)).status).toBe(403);
    expect((await rbac.client.request('GET', '/apis/eap.dev/v1alpha1/eventpipelines')).status).toBe(403);
    expect((await rbac.client.request('GET', `/apis/eap.dev/v1alpha1/namespaces/${elsewhere.name}/eventpipelines`)).status).toBe(403);
  });

  it('takes a pipeline of the watched namespace to Ready with those rules, leader election included', async () => {
    operator = await startOperatorInProcess(rbac.client, watched.name, {
      LEADER_ELECTION: 'true',
      POD_NAMESPACE: operatorNamespace.name,
      POD_NAME: 'scoped-operator-0',
      RETRY_PERIOD_SECONDS: '1',
    });
    await kube.create(
      EP_PATH(watched.name),
      pipelineManifest(watched.name, NAME, { image, api: { replicas: 1 }, networkPolicy: { enabled: true } }),
    );
    const jobName = migrationJobName(
      { metadata: { name: NAME, namespace: '' } } as never,
      imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }),
    );
    await eventually('the migration Job', () => kube.find(`/apis/batch/v1/namespaces/${watched.name}/jobs/${jobName}`));
    await finishMigrationJob(kube, watched.name, jobName, 'Succeeded');
    await eventually('the worker Deployment', () => kube.find(`/apis/apps/v1/namespaces/${watched.name}/deployments/${names.worker}`));
    await makeDeploymentAvailable(kube, watched.name, names.api);
    await makeDeploymentAvailable(kube, watched.name, names.worker);
    await waitForCondition(kube, watched.name, NAME, 'Ready', 'True');
    expect(operator.isLeader).toBe(true);
    for (const path of [
      `/api/v1/namespaces/${watched.name}/services/${names.apiMetrics}`,
      `/apis/policy/v1/namespaces/${watched.name}/poddisruptionbudgets/${names.api}`,
      `/apis/networking.k8s.io/v1/namespaces/${watched.name}/networkpolicies/${names.worker}`,
    ]) {
      expect(await kube.find<KubeObject>(path), path).toBeDefined();
    }
  });

  it('leaves pipelines of other namespaces alone', async () => {
    await kube.create(EP_PATH(elsewhere.name), pipelineManifest(elsewhere.name, NAME, { image }));
    // The watched pipeline is reconciled again meanwhile (a spec change), so the operator is at work, not stopped.
    await kube.mergePatch(EP_PATH(watched.name, NAME), { spec: { api: { rateLimit: { perSecond: 10 } } } });
    await eventually('the API Deployment to follow the spec change', async () => {
      const api = await kube.get<{
        spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } };
      }>(`/apis/apps/v1/namespaces/${watched.name}/deployments/${names.api}`);
      const env = api.spec.template.spec.containers[0]?.env ?? [];
      return env.some((e) => e.name === 'RATE_LIMIT_PER_SECOND' && e.value === '10') ? true : undefined;
    });
    const other = await kube.get<KubeObject & { status?: unknown }>(EP_PATH(elsewhere.name, NAME));
    expect(other.status).toBeUndefined();
    expect(await kube.find(`/api/v1/namespaces/${elsewhere.name}/services/${names.api}`)).toBeUndefined();
  });
});
