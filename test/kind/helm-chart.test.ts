/**
 * The operator's Helm chart in a real cluster, as `make deploy` installs it (release
 * `eap-operator` in eap-system, the operator image loaded into kind): `helm test` passes (its pod,
 * of the operator image, finds the operator ready through its metrics Service and the
 * EventPipeline API served) and leaves nothing behind; it fails, saying why, while no operator
 * pod runs; and the PodDisruptionBudget lets one of the two operator pods go at a time.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { toolPath } from '../../scripts/k8s/tool-manifest.ts';
import { eventually, TestKube } from '../k8s/support/kube-client.ts';
import { kubectl, OPERATOR_NAMESPACE } from './support/cluster.ts';

const kube = TestKube.fromKubeconfig(inject('kindKubeconfig'));
const execFileAsync = promisify(execFile);
const RELEASE = 'eap-operator';
/** The objects of the chart's `helm test` (templates/tests/operator-test.yaml), all named so. */
const TEST_OBJECTS = [
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'v1', kind: 'Pod' },
].map((type) => ({ ...type, name: `${RELEASE}-test`, namespace: OPERATOR_NAMESPACE }));

/** `helm test` of the demo's operator release; rejects with helm's output when a test fails. */
function helmTest() {
  return execFileAsync(
    toolPath('helm'),
    ['test', RELEASE, '--namespace', OPERATOR_NAMESPACE, '--timeout', '3m', '--kubeconfig', inject('kindKubeconfig')],
    { timeout: 240_000 },
  );
}

const leftOver = async () => {
  const found = await Promise.all(TEST_OBJECTS.map((ref) => kube.find(ref)));
  return TEST_OBJECTS.filter((_, index) => found[index] !== undefined).map((ref) => ref.kind);
};

describe('the eap-operator chart in kind', () => {
  it('passes helm test, and deletes what the test created', async () => {
    const { stdout } = await helmTest();
    expect(stdout).toMatch(/TEST SUITE:\s+eap-operator-test/);
    expect(stdout).toMatch(/Phase:\s+Succeeded/);
    expect(stdout).not.toMatch(/Phase:\s+Failed/);
    await eventually('the helm test objects deleted', async () => ((await leftOver()).length === 0 ? true : undefined), 60_000, 1_000);
  });

  it('fails helm test while no operator pod runs, its pod saying why; passes again once the operator is back', async () => {
    await kubectl(['-n', OPERATOR_NAMESPACE, 'scale', `deployment/${RELEASE}`, '--replicas=0']);
    try {
      await eventually(
        'no operator pod left',
        async () =>
          (await kube.list('v1', 'Pod', OPERATOR_NAMESPACE, 'app.kubernetes.io/name=eap-operator')).length === 0 ? true : undefined,
        120_000,
        1_000,
      );
      const failed = await helmTest().then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failed?.message, 'helm test must fail').toContain('eap-operator-test');
      // A failed test keeps its pod for a look: its log names the check that failed.
      const { stdout: log } = await kubectl(['-n', OPERATOR_NAMESPACE, 'logs', `pod/${RELEASE}-test`]);
      expect(log).toContain('FAILED the operator is ready');
      expect(log).toContain('ok: EventPipelines are served');
    } finally {
      // Leave the operator as `make deploy` made it.
      await kubectl(['-n', OPERATOR_NAMESPACE, 'scale', `deployment/${RELEASE}`, '--replicas=2']);
      await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', `deployment/${RELEASE}`, '--timeout=180s'], { timeoutMs: 200_000 });
    }
    // The next run replaces the failed test's objects and passes.
    await helmTest();
    await eventually('the helm test objects deleted', async () => ((await leftOver()).length === 0 ? true : undefined), 60_000, 1_000);
  });

  it('keeps one of the two operator pods through voluntary disruptions (PodDisruptionBudget)', async () => {
    const budget = await eventually(
      'the PodDisruptionBudget counting both operator pods',
      async () => {
        const current = await kube.get<V1PodDisruptionBudget>({
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          name: RELEASE,
          namespace: OPERATOR_NAMESPACE,
        });
        return current.status?.currentHealthy === 2 ? current : undefined;
      },
      120_000,
      1_000,
    );
    expect(budget.spec?.minAvailable).toBe(1);
    expect(budget.status).toMatchObject({ expectedPods: 2, desiredHealthy: 1, disruptionsAllowed: 1 });
  });
});
