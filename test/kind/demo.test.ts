/**
 * The demo as `make kind-up images kind-load deploy` leaves it (README, Kubernetes): the operator
 * from its Helm chart (two replicas, one leader), the demo Redis and PostgreSQL, and the demo
 * EventPipeline Ready with a migration Job that really ran in a pod, API and worker pods passing
 * their probes, and the API on 127.0.0.1:8000.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { V1Job, V1Lease } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { eventually, TestKube } from '../k8s/support/kube-client.ts';
import { type PipelineObject, pipelineRef } from '../k8s/support/operator-harness.ts';
import { REPO_ROOT } from '../support/docker.ts';
import {
  countEvents,
  createProject,
  DEMO_ADMIN_TOKEN,
  DEMO_API,
  DEMO_NAMESPACE,
  kubectl,
  OPERATOR_NAMESPACE,
  pods,
  serviceProxyJson,
  sql,
  waitForStored,
} from './support/cluster.ts';

const kube = TestKube.fromKubeconfig(inject('kindKubeconfig'));

describe('the kind demo', () => {
  it('is Ready: a migration Job ran eap migrate up in a pod, API and worker pods pass their probes', async () => {
    await kubectl(['-n', DEMO_NAMESPACE, 'wait', '--for=condition=Ready', 'evp/demo', '--timeout=60s']);
    const pipeline = await kube.get<PipelineObject>(pipelineRef(DEMO_NAMESPACE, 'demo'));
    const conditions = Object.fromEntries((pipeline.status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({ Ready: 'True', MigrationsComplete: 'True', ApiAvailable: 'True', WorkersAvailable: 'True' });
    expect(pipeline.status?.servingImage).toBe('eap:dev');

    const jobs = await kube.list<V1Job>('batch/v1', 'Job', DEMO_NAMESPACE);
    const migration = jobs.find((job) => job.metadata?.name?.startsWith('demo-migrate-'));
    expect(migration?.status?.succeeded).toBe(1);
    // The pod that succeeded (an earlier attempt may have failed while PostgreSQL was starting:
    // the Job's backoffLimit covers that).
    const jobPods = await pods(kube, DEMO_NAMESPACE, `job-name=${migration?.metadata?.name}`);
    const succeeded = jobPods.find((pod) => pod.status?.phase === 'Succeeded');
    expect(succeeded, 'a succeeded migration pod').toBeDefined();
    const log = (await kubectl(['-n', DEMO_NAMESPACE, 'logs', `pod/${succeeded?.metadata?.name}`])).stdout;
    const migrations = readdirSync(`${REPO_ROOT}packages/db/migrations`).filter((file) => file.endsWith('.sql'));
    // Applied by the Job's pod (or found applied, when this cluster is reused).
    for (const file of migrations) expect(log).toMatch(new RegExp(`${file.replace(/\.sql$/, '')}|up to date`));
    // And the in-cluster database holds every migration the image ships.
    expect(Number(await sql('eap', 'SELECT count(*) FROM schema_migrations'))).toBe(migrations.length);

    for (const component of ['api', 'worker']) {
      const running = await pods(kube, DEMO_NAMESPACE, `app.kubernetes.io/instance=demo,app.kubernetes.io/component=${component}`);
      expect(running.length, component).toBeGreaterThan(0);
      for (const pod of running) {
        expect(pod.status?.phase, pod.metadata?.name).toBe('Running');
        expect(
          pod.status?.containerStatuses?.every((c) => c.ready),
          pod.metadata?.name,
        ).toBe(true);
      }
    }
  });

  it('runs the operator from its chart: two replicas, one of them holding the leader Lease', async () => {
    // Leadership can be in transit when this runs (another test may just have deleted the leader
    // pod, or a renewal missed its deadline on a busy node): the Lease must come to rest on one of
    // the two running replicas within a few lease durations.
    const settled = await eventually(
      'the leader Lease held by a running operator replica',
      async () => {
        const operators = await pods(kube, OPERATOR_NAMESPACE, 'app.kubernetes.io/name=eap-operator');
        const lease = await kube.get<V1Lease>({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          name: 'eap-operator-leader',
          namespace: OPERATOR_NAMESPACE,
        });
        const names = operators.map((pod) => pod.metadata?.name);
        const ready = operators.every((pod) => pod.status?.containerStatuses?.every((c) => c.ready));
        return operators.length === 2 && ready && names.includes(lease.spec?.holderIdentity) ? { names, lease } : undefined;
      },
      60_000,
    );
    expect(settled.names).toContain(settled.lease.spec?.holderIdentity);
  });

  it("runs the demo Prometheus, which finds the pipeline's API and worker pods and scrapes them", async () => {
    const prometheus = <T>(path: string, query?: Record<string, string>) =>
      serviceProxyJson<T>(kube, DEMO_NAMESPACE, 'prometheus:9090', path, query);
    const upTargets = await eventually(
      'the API and worker pods scraped (up == 1)',
      async () => {
        const answer = await prometheus<{ data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
          'api/v1/query',
          { query: 'up{job="eap"} == 1' },
        );
        const containers = new Set((answer.data?.result ?? []).map((r) => r.metric.container));
        return containers.has('api') && containers.has('worker') ? containers : undefined;
      },
      120_000,
      2_000,
    );
    expect([...upTargets].sort()).toEqual(['api', 'worker']);
    const rules = await prometheus<{ data?: { groups?: Array<{ rules: Array<{ name: string; health: string }> }> } }>('api/v1/rules');
    const loaded = (rules.data?.groups ?? []).flatMap((group) => group.rules);
    // Every rule of the project's alert file, loaded (and healthy) in the demo Prometheus.
    const shipped = parse(readFileSync(`${REPO_ROOT}/deploy/prometheus/alerts.yml`, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string }> }>;
    };
    const expected = shipped.groups.flatMap((group) => group.rules.map((rule) => rule.alert)).sort();
    expect(expected).toContain('EapDeadLettersDropped');
    expect(loaded.map((rule) => rule.name).sort()).toEqual(expected);
  });

  it('stores the events posted to 127.0.0.1:8000 in the in-cluster PostgreSQL', async () => {
    const project = await createProject(DEMO_API, DEMO_ADMIN_TOKEN, `kind-demo-${randomBytes(2).toString('hex')}`);
    const events = Array.from({ length: 500 }, (_, i) => ({ event: 'page_view', distinct_id: `user-${i}` }));
    const res = await fetch(`${DEMO_API}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${project.write_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { accepted: number }).accepted).toBe(500);
    await waitForStored('eap', project.project_id, 500);
    expect(await countEvents('eap', project.project_id)).toBe(500);
  });
});
