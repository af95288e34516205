/**
 * Operator processes (`eap-operator`, as the image runs it) with leader election on a Lease: one
 * of two replicas reconciles; when it is killed the standby takes over within 20 s; a graceful
 * stop hands the Lease over at once; an operator killed in the middle of an upgrade leaves
 * nothing a new one cannot converge from.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@eap/local-services';
import { childNames, imageReference, migrationJobName } from '@eap/manifests';
import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, TestKube } from './support/kube-client.ts';
import {
  finishMigrationJob,
  makeDeploymentAvailable,
  pipelineManifest,
  pipelineRef,
  rootPath,
  waitForCondition,
  writeTokenKubeconfig,
  type OperatorNamespace,
  setUpOperatorNamespace,
} from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
const NAME = 'ha';
const names = childNames({ metadata: { name: NAME } });
const LEASE = 'eap-operator-leader';

interface OperatorProcess {
  identity: string;
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

let namespace: string;
let setup: OperatorNamespace;
let kubeconfigFile: string;
const processes: OperatorProcess[] = [];

async function startOperator(identity: string): Promise<OperatorProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [rootPath('operator/bin/eap-operator.js')], {
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: kubeconfigFile,
      POD_NAME: identity,
      POD_NAMESPACE: namespace,
      WATCH_NAMESPACE: namespace,
      METRICS_PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = { identity, child, port, output: () => output, exited };
  processes.push(started);
  await eventually(
    `${identity} to serve /healthz`,
    async () => ((await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) })).ok ? true : undefined),
    20_000,
  );
  return started;
}

/**
 * Reads the Lease with requests that give up after 5 s, so the poll around one nobody answers asks
 * again well within its own bound. In one run on a machine busy with the other suites, the
 * graceful-stop test hung for 60 s although each of its steps is bounded otherwise.
 */
const leaseReader = TestKube.fromKubeconfig(inject('kubeconfig'), 5_000);
const holder = async () =>
  (await leaseReader.find<V1Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: LEASE, namespace }))?.spec?.holderIdentity;
/** The Lease holder, asked until the API server answers. */
const currentHolder = () => eventually('the Lease holder', async () => (await holder()) ?? '', 20_000);
const job = (name: string) => ({ apiVersion: 'batch/v1', kind: 'Job', name, namespace });
const deployment = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace });
const leaderFlag = async (op: OperatorProcess) =>
  ((await (await fetch(`http://127.0.0.1:${op.port}/healthz`, { signal: AbortSignal.timeout(5_000) })).json()) as { leader: boolean })
    .leader;
const jobOf = (tag: string) =>
  migrationJobName({ metadata: { name: NAME } }, imageReference({ repository: 'eap', tag, pullPolicy: 'IfNotPresent', pullSecrets: [] }));

beforeAll(async () => {
  // Operator processes, not one in this process: they get the chart's permissions via a kubeconfig.
  setup = await setUpOperatorNamespace(kube, 'ha', { startOperator: false });
  namespace = setup.namespace;
  kubeconfigFile = await writeTokenKubeconfig(kube, setup.token);
});

afterAll(async () => {
  for (const op of processes) op.child.kill('SIGKILL');
  await setup?.tearDown();
});

describe('operator high availability', () => {
  let a: OperatorProcess;
  let b: OperatorProcess;

  it('runs two replicas with exactly one leader, which reconciles', async () => {
    a = await startOperator('operator-a');
    b = await startOperator('operator-b');
    const leader = await eventually('a Lease holder', holder);
    expect(['operator-a', 'operator-b']).toContain(leader);
    await eventually('exactly one replica to report leading', async () => {
      const flags = [await leaderFlag(a), await leaderFlag(b)];
      return flags.filter(Boolean).length === 1 ? flags : undefined;
    });
    const metrics = await (await fetch(`http://127.0.0.1:${(leader === 'operator-a' ? b : a).port}/metrics`)).text();
    expect(metrics).toMatch(/^eap_operator_leader 0$/m);
    await kube.create(pipelineManifest(namespace, NAME, { image: { repository: 'eap', tag: 'v1' } }));
    await eventually('the migration Job', () => kube.find(job(jobOf('v1'))));
  });

  it('fails over to the standby within 20 s when the leader is killed', async () => {
    const leaderName = await currentHolder();
    const [leader, standby] = leaderName === a.identity ? [a, b] : [b, a];
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await eventually('the standby to take the Lease', async () => ((await holder()) === standby.identity ? true : undefined), 25_000, 100);
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(20_000);
    // The new leader carries on: the finished migration leads to the workloads.
    await finishMigrationJob(kube, namespace, jobOf('v1'), 'Succeeded');
    await eventually('the API Deployment', () => kube.find(deployment(names.api)));
    expect(await leaderFlag(standby)).toBe(true);
    console.log(`[operator-ha] failover after SIGKILL of the leader: ${(failoverMs / 1000).toFixed(1)} s`);
  });

  // Each step is bounded on its own: the holder 25 s, a new operator serving 25 s, the old one's
  // exit 20 s (its hard stop), the hand-over 8 s, the flag 5 s. Together that is more than the
  // suite's 60 s, which a machine busy with the other suites reached once (2026-11-30) and then
  // reported no step; with room for all of them, a slow step fails with its own message.
  const GRACEFUL_STOP_TEST_MS = 120_000;
  it(
    'hands the Lease over at once on a graceful stop',
    async () => {
      const leader = (await currentHolder()) === a.identity ? a : b;
      const next = await startOperator('operator-c');
      leader.child.kill('SIGTERM');
      expect(await leader.exited).toBe(0);
      // The released Lease is taken within a retry period or two, not a whole lease duration.
      await eventually(
        'operator-c to take the released Lease',
        async () => ((await holder()) === 'operator-c' ? true : undefined),
        8_000,
        100,
      );
      expect(await leaderFlag(next)).toBe(true);
    },
    GRACEFUL_STOP_TEST_MS,
  );

  it('converges after being killed in the middle of an upgrade', async () => {
    const current = processes.find((p) => p.identity === 'operator-c') as OperatorProcess;
    await kube.mergePatch(pipelineRef(namespace, NAME), { spec: { image: { tag: 'v2' } } });
    // Killed as soon as its reconcile has created the new Job, before the rest of that reconcile.
    await eventually('the v2 migration Job', () => kube.find(job(jobOf('v2'))), 20_000, 20);
    current.child.kill('SIGKILL');
    await finishMigrationJob(kube, namespace, jobOf('v2'), 'Succeeded');
    await startOperator('operator-d');
    await eventually(
      'the Deployments on v2',
      async () => {
        const images = await Promise.all(
          [names.api, names.worker].map(
            async (n) => (await kube.get<V1Deployment>(deployment(n))).spec?.template.spec?.containers[0]?.image,
          ),
        );
        return images.every((image) => image === 'eap:v2') ? true : undefined;
      },
      40_000,
    );
    await makeDeploymentAvailable(kube, namespace, names.api);
    await makeDeploymentAvailable(kube, namespace, names.worker);
    await waitForCondition(kube, namespace, NAME, 'Ready', 'True', undefined, 40_000);
  });
});
