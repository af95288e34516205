/**
 * The operator installed for one namespace (chart value watchNamespace), against the real API
 * server: it runs with exactly the RBAC the chart renders then — its Lease Role in its own
 * namespace, the pipeline rules as a Role in the watched namespace, and a ClusterRole with
 * discovery only — and still takes a pipeline to Ready, while Secrets and pipelines of every other
 * namespace stay out of its reach.
 */
import { childNames, imageReference, migrationJobName } from '@eap/manifests';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, type KubeObject, type KubeRef, statusOf, TestKube } from './support/kube-client.ts';
import {
  createNamespace,
  createUrlSecrets,
  finishMigrationJob,
  installCrd,
  type Manifest,
  makeDeploymentAvailable,
  operatorClientWithChartRbac,
  pipelineManifest,
  pipelineRef,
  randomSuffix,
  startOperatorInProcess,
  waitForCondition,
} from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
const NAME = 'scoped';
const names = childNames({ metadata: { name: NAME } });
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
});

describe('the operator watching one namespace', () => {
  it('gets from the chart a ClusterRole without any namespaced rule, and a Role in the watched namespace', () => {
    // What the release installs: the chart's `helm test` hook (its own Role and RoleBinding, made
    // only while `helm test` runs) is not the operator's.
    const installed = rbac.rendered.filter((o) => !(o.metadata.annotations as Record<string, string> | undefined)?.['helm.sh/hook']);
    const clusterRole = installed.find((o) => o.kind === 'ClusterRole') as Manifest & { rules: Array<Record<string, unknown>> };
    expect(clusterRole.rules.length).toBeGreaterThan(0);
    for (const rule of clusterRole.rules) expect(Object.keys(rule).sort()).toEqual(['nonResourceURLs', 'verbs']);
    const roles = installed.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding');
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
    const secret = (namespace: string): KubeRef => ({ apiVersion: 'v1', kind: 'Secret', name: 'eap-redis', namespace });
    expect(await statusOf(rbac.client.get(secret(watched.name)))).toBe(200);
    expect(await statusOf(rbac.client.get(secret(elsewhere.name)))).toBe(403);
    // Lists: of every namespace, then of another one.
    expect(await statusOf(rbac.client.list('eap.dev/v1alpha1', 'EventPipeline'))).toBe(403);
    expect(await statusOf(rbac.client.list('eap.dev/v1alpha1', 'EventPipeline', elsewhere.name))).toBe(403);
  });

  it('takes a pipeline of the watched namespace to Ready with those rules, leader election included', async () => {
    operator = await startOperatorInProcess(rbac.client, watched.name, {
      LEADER_ELECTION: 'true',
      POD_NAMESPACE: operatorNamespace.name,
      POD_NAME: 'scoped-operator-0',
      RETRY_PERIOD_SECONDS: '1',
    });
    await kube.create(pipelineManifest(watched.name, NAME, { image, api: { replicas: 1 }, networkPolicy: { enabled: true } }));
    const jobName = migrationJobName(
      { metadata: { name: NAME } },
      imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }),
    );
    await eventually('the migration Job', () => kube.find({ apiVersion: 'batch/v1', kind: 'Job', name: jobName, namespace: watched.name }));
    await finishMigrationJob(kube, watched.name, jobName, 'Succeeded');
    await eventually('the worker Deployment', () =>
      kube.find({ apiVersion: 'apps/v1', kind: 'Deployment', name: names.worker, namespace: watched.name }),
    );
    await makeDeploymentAvailable(kube, watched.name, names.api);
    await makeDeploymentAvailable(kube, watched.name, names.worker);
    await waitForCondition(kube, watched.name, NAME, 'Ready', 'True');
    expect(operator.isLeader).toBe(true);
    for (const ref of [
      { apiVersion: 'v1', kind: 'Service', name: names.apiMetrics },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: names.api },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: names.worker },
    ]) {
      expect(await kube.find<KubeObject>({ ...ref, namespace: watched.name }), `${ref.kind} ${ref.name}`).toBeDefined();
    }
  });

  it('leaves pipelines of other namespaces alone', async () => {
    await kube.create(pipelineManifest(elsewhere.name, NAME, { image }));
    // The watched pipeline is reconciled again meanwhile (a spec change), so the operator is at work, not stopped.
    await kube.mergePatch(pipelineRef(watched.name, NAME), { spec: { api: { rateLimit: { perSecond: 10 } } } });
    await eventually('the API Deployment to follow the spec change', async () => {
      const api = await kube.get<V1Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', name: names.api, namespace: watched.name });
      const env = api.spec?.template.spec?.containers[0]?.env ?? [];
      return env.some((e) => e.name === 'RATE_LIMIT_PER_SECOND' && e.value === '10') ? true : undefined;
    });
    const other = await kube.get<KubeObject & { status?: unknown }>(pipelineRef(elsewhere.name, NAME));
    expect(other.status).toBeUndefined();
    expect(await kube.find({ apiVersion: 'v1', kind: 'Service', name: names.api, namespace: elsewhere.name })).toBeUndefined();
  });
});
