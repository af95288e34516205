/**
 * The operator when its caches cannot follow the cluster, against the real API server with the
 * chart's RBAC minus one verb: an operator that may not list Jobs fails its first cache sync
 * within CACHE_SYNC_TIMEOUT_SECONDS, is not ready, hands the Lease over and ends, and a properly
 * permitted standby takes over and reconciles; an operator whose watch of EventPipelines is
 * refused later (list still allowed) gives up once it has been unable to watch for as long.
 */
import { imageReference, LEADER_LEASE_NAME, migrationJobName } from '@eap/manifests';
import type { V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, refusalOf, TestKube } from './support/kube-client.ts';
import {
  createNamespace,
  createUrlSecrets,
  installCrd,
  type Manifest,
  operatorClientWithChartRbac,
  pipelineManifest,
  pipelineRef,
  randomSuffix,
  startOperatorInProcess,
} from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; nonResourceURLs?: string[] };

/** The chart's ClusterRole without `verbs` on `group`/`resource` (other resources of a shared rule keep theirs). */
function withoutVerbs(clusterRole: Manifest, group: string, resource: string, verbs: string[]): Manifest {
  const rules = (clusterRole.rules as Rule[]).flatMap((rule): Rule[] => {
    if (!rule.apiGroups?.includes(group) || !rule.resources?.includes(resource)) return [rule];
    const others = rule.resources.filter((r) => r !== resource);
    return [
      ...(others.length > 0 ? [{ ...rule, resources: others }] : []),
      { ...rule, resources: [resource], verbs: rule.verbs.filter((verb) => !verbs.includes(verb)) },
    ];
  });
  return { ...clusterRole, rules };
}

async function readyz(operator: Operator): Promise<{ status: number; body: { status: string; role: string; detail: string } }> {
  const response = await fetch(`http://127.0.0.1:${operator.metricsPort}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; role: string; detail: string } };
}

let namespace: string;
let removeNamespace: () => Promise<void>;
const cleanups: Array<() => Promise<void>> = [];
const operators: Operator[] = [];

beforeAll(async () => {
  await installCrd(kube);
  ({ name: namespace, remove: removeNamespace } = await createNamespace(kube, 'robust'));
  await createUrlSecrets(kube, namespace);
});

afterAll(async () => {
  for (const operator of operators) await operator.stop();
  for (const cleanup of cleanups) await cleanup();
  await removeNamespace?.();
});

describe('operator cache sync failures', () => {
  it('hands over to a permitted standby when its RBAC lacks list on a watched kind', async () => {
    // A release of its own: its ClusterRole is edited, the shared one stays as the chart renders it.
    const broken = await operatorClientWithChartRbac(kube, namespace, { releaseName: `nolist-${randomSuffix()}` });
    cleanups.push(broken.cleanup);
    const clusterRole = broken.rendered.find((object) => object.kind === 'ClusterRole') as Manifest;
    await kube.apply(withoutVerbs(clusterRole, 'batch', 'jobs', ['list']));
    await eventually('list of Jobs to be refused to the edited ServiceAccount', async () =>
      (await refusalOf(broken.client.list('batch/v1', 'Job', namespace))).code === 403 ? true : undefined,
    );
    const permitted = await operatorClientWithChartRbac(kube, namespace);
    cleanups.push(permitted.cleanup);

    const leaderElection = { LEADER_ELECTION: 'true', POD_NAMESPACE: namespace, RETRY_PERIOD_SECONDS: '1', LEASE_DURATION_SECONDS: '15' };
    const first = await startOperatorInProcess(broken.client, namespace, {
      ...leaderElection,
      POD_NAME: 'operator-without-list',
      CACHE_SYNC_TIMEOUT_SECONDS: '6',
    });
    operators.push(first);
    await eventually('the first operator to lead', async () => (first.isLeader ? true : undefined), 10_000, 50);
    const second = await startOperatorInProcess(permitted.client, namespace, { ...leaderElection, POD_NAME: 'operator-permitted' });
    operators.push(second);
    // A standby is ready while the API server answers its Lease attempts.
    const standby = await eventually('the standby to be ready', async () => {
      const answer = await readyz(second);
      return answer.status === 200 ? answer : undefined;
    });
    expect(standby.body.role).toBe('standby');

    const end = await first.ended;
    expect(end.reason).toBe('caches-unsynced');
    expect(end.message).toMatch(/^jobs\.batch did not sync within 6 s: jobs\.batch is forbidden: .*cannot list resource "jobs"/);
    const notReady = await readyz(first);
    expect(notReady.status).toBe(503);
    expect(notReady.body.detail).toContain('jobs.batch is forbidden');
    expect(first.isLeader).toBe(false);

    // Released, not left to expire (15 s): the standby takes it within its retry period.
    const leaseRef = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: LEADER_LEASE_NAME, namespace };
    await eventually(
      'the permitted operator to hold the Lease',
      async () => ((await kube.get<V1Lease>(leaseRef)).spec?.holderIdentity === 'operator-permitted' ? true : undefined),
      10_000,
      100,
    );
    await eventually('the new leader to be ready', async () =>
      (await readyz(second)).status === 200 && second.isLeader ? true : undefined,
    );

    // The pipeline gets reconciled, by the second operator.
    const image = { repository: 'registry.example/eap', tag: '1.0.0' };
    await kube.create(pipelineManifest(namespace, 'handover', { image }));
    const jobName = migrationJobName(
      { metadata: { name: 'handover' } },
      imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }),
    );
    await eventually('the migration Job of the pipeline', () =>
      kube.find({ apiVersion: 'batch/v1', kind: 'Job', name: jobName, namespace }),
    );
    await eventually('the pipeline status', async () => ((await kube.get(pipelineRef(namespace, 'handover'))).status ? true : undefined));
  });

  it('gives up when its watch is refused for longer than the sync timeout, though list still works', async () => {
    const rbac = await operatorClientWithChartRbac(kube, namespace, { releaseName: `nowatch-${randomSuffix()}` });
    cleanups.push(rbac.cleanup);
    const operator = await startOperatorInProcess(rbac.client, namespace, {
      CACHE_SYNC_TIMEOUT_SECONDS: '5',
      // The server ends each watch after 80 % of this (2 s), so the next one meets the new rules.
      WATCH_INACTIVITY_TIMEOUT_SECONDS: '3',
    });
    operators.push(operator);
    expect((await readyz(operator)).status).toBe(200);

    const clusterRole = rbac.rendered.find((object) => object.kind === 'ClusterRole') as Manifest;
    await kube.apply(withoutVerbs(clusterRole, 'eap.dev', 'eventpipelines', ['watch']));
    const end = await operator.ended;
    expect(end).toEqual({
      reason: 'caches-unsynced',
      message: expect.stringMatching(/^eventpipelines\.eap\.dev could not be listed or watched for 5 s: .*403/),
    });
    expect((await readyz(operator)).status).toBe(503);
    // Listing alone still works: the operator stopped because it could not watch.
    await expect(rbac.client.list('eap.dev/v1alpha1', 'EventPipeline', namespace)).resolves.toBeDefined();
  });
});
