/**
 * The life of a pipeline in a real cluster: an image upgrade that ships one more migration rolls
 * the API and workers without refusing ingest; a migration that fails leaves the running version
 * serving with a condition that says why; monitoring CRDs installed later are noticed without
 * touching the pipeline (the operator asks discovery every 10 s); deleting the EventPipeline removes everything it created; `helm
 * uninstall` leaves no operator objects (the chart is installed again afterwards).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { toolPath } from '../../scripts/k8s/tool-manifest.ts';
import { eventually, TestKube } from '../k8s/support/kube-client.ts';
import { prometheusOperatorCrds } from '../k8s/support/monitoring-crds.ts';
import { type PipelineObject, pipelineRef } from '../k8s/support/operator-harness.ts';
import { docker, REPO_ROOT } from '../support/docker.ts';
import {
  createProject,
  createTestPipeline,
  OPERATOR_NAMESPACE,
  pods,
  sql,
  startLoad,
  kindLoad,
  type TestPipeline,
  waitForStored,
} from './support/cluster.ts';
import { make } from './global-setup.ts';

const kube = TestKube.fromKubeconfig(inject('kindKubeconfig'));
let pipeline: TestPipeline;
const contexts: string[] = [];
/** Cluster-scoped CRDs this file installed, removed after it. */
const crds: string[] = [];

/**
 * `eap:<tag>`: eap:dev plus one migration (the next number), loaded into the cluster. An
 * additive one stands for the next release; a failing one for a broken release.
 */
async function imageWithMigration(tag: string, name: string, migrationSql: string): Promise<void> {
  const next = readdirSync(`${REPO_ROOT}packages/db/migrations`).filter((file) => /^\d{4}_.*\.sql$/.test(file)).length + 1;
  const file = `${String(next).padStart(4, '0')}_${name}.sql`;
  const context = mkdtempSync(join(tmpdir(), 'eap-image-'));
  contexts.push(context);
  writeFileSync(join(context, file), migrationSql);
  writeFileSync(join(context, 'Dockerfile'), `FROM eap:dev\nCOPY ${file} /app/packages/db/migrations/${file}\n`);
  await docker(['build', '--quiet', '-t', `eap:${tag}`, context], 300_000, { DOCKER_BUILDKIT: '0' });
  await kindLoad(`eap:${tag}`);
}

const pipelineObject = () => pipelineRef(pipeline.namespace, pipeline.name);
const setTag = (tag: string) => kube.mergePatch(pipelineObject(), { spec: { image: { tag } } });
const status = () => kube.get<PipelineObject>(pipelineObject());
const crdRef = (name: string) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
const condition = async (type: string) => (await status()).status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  pipeline = await createTestPipeline(kube, {
    redisDb: 6,
    spec: { api: { replicas: 2 }, worker: { minReplicas: 1, maxReplicas: 1 } },
  });
  await Promise.all([
    imageWithMigration(
      'e2e-next',
      'e2e_next_release',
      '-- The next release: an additive change.\nCREATE TABLE e2e_next_release (id integer);\n',
    ),
    imageWithMigration('e2e-broken', 'e2e_broken_release', '-- A broken release: this migration fails.\nSELECT 1 / 0;\n'),
  ]);
});

afterAll(async () => {
  for (const context of contexts) rmSync(context, { recursive: true, force: true });
  await pipeline?.remove().catch(() => undefined);
  for (const tag of ['e2e-next', 'e2e-broken']) await docker(['image', 'rm', `eap:${tag}`]).catch(() => undefined);
  for (const name of crds) await kube.delete(crdRef(name)).catch(() => undefined);
});

describe('upgrades', () => {
  it('runs the new image migration Job and rolls API and workers to it without refusing ingest', async () => {
    const project = await createProject(pipeline.apiUrl, pipeline.adminToken, 'upgrade');
    const load = startLoad(pipeline.apiUrl, project.write_key, { batchSize: 50, pauseMs: 20 });
    const started = Date.now();
    try {
      await eventually('events flowing', async () => (load.accepted > 500 ? true : undefined), 60_000);
      await setTag('e2e-next');
      await eventually(
        'the pipeline serving eap:e2e-next, Ready',
        async () => {
          const current = await status();
          const ready = current.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
          return current.status?.servingImage === 'eap:e2e-next' && ready ? true : undefined;
        },
        300_000,
        1_000,
      );
      await eventually(
        'every API and worker pod on eap:e2e-next and ready',
        async () => {
          const all = await pods(kube, pipeline.namespace, `app.kubernetes.io/instance=${pipeline.name}`);
          const serving = all.filter((pod) => ['api', 'worker'].includes(pod.metadata?.labels?.['app.kubernetes.io/component'] ?? ''));
          const done = serving.every(
            (pod) => pod.spec?.containers?.[0]?.image === 'eap:e2e-next' && pod.status?.containerStatuses?.every((c) => c.ready),
          );
          return done && serving.length >= 3 ? true : undefined;
        },
        300_000,
        1_000,
      );
      // Keep sending a little after the rollout, then compare.
      const after = load.accepted;
      await eventually('events accepted after the rollout', async () => (load.accepted > after + 500 ? true : undefined), 60_000);
    } finally {
      await load.stop();
    }
    console.log(
      `upgrade: rolled to eap:e2e-next in ${((Date.now() - started) / 1000).toFixed(0)} s with ${load.accepted} events accepted and ${load.refusals.length} refused`,
    );
    expect(load.refusals).toEqual([]);
    expect(await sql(pipeline.database, "SELECT to_regclass('public.e2e_next_release') IS NOT NULL")).toBe('t');
    await waitForStored(pipeline.database, project.project_id, load.accepted);
  });

  it('keeps the running version serving when a migration fails, and says why', async () => {
    await setTag('e2e-broken');
    const failed = await eventually(
      'MigrationsComplete=False (MigrationJobFailed)',
      async () => {
        const migrations = await condition('MigrationsComplete');
        return migrations?.status === 'False' && migrations.reason === 'MigrationJobFailed' ? migrations : undefined;
      },
      300_000,
      1_000,
    );
    expect(failed.message).toContain('eap:e2e-broken');
    expect(failed.message).toContain('eap:e2e-next keeps serving');
    expect((await status()).status?.servingImage).toBe('eap:e2e-next');
    const project = await createProject(pipeline.apiUrl, pipeline.adminToken, 'after-failed-migration');
    const load = startLoad(pipeline.apiUrl, project.write_key, { batchSize: 50 });
    await eventually('events accepted by the running version', async () => (load.accepted >= 1_000 ? true : undefined), 60_000);
    await load.stop();
    expect(load.refusals).toEqual([]);
    await waitForStored(pipeline.database, project.project_id, load.accepted);
    const all = await pods(kube, pipeline.namespace, `app.kubernetes.io/instance=${pipeline.name},app.kubernetes.io/component=api`);
    expect(all.every((pod) => pod.spec?.containers?.[0]?.image === 'eap:e2e-next')).toBe(true);
    await setTag('e2e-next');
  });
});

describe('monitoring CRDs installed after the pipeline is up', () => {
  it('are noticed without touching the pipeline: ServiceMonitors and the PrometheusRule appear', async () => {
    await kube.mergePatch(pipelineObject(), {
      spec: { monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } },
    });
    await eventually(
      'ServiceMonitorReady=False (CRDNotInstalled)',
      async () => ((await condition('ServiceMonitorReady'))?.reason === 'CRDNotInstalled' ? true : undefined),
      120_000,
      1_000,
    );
    for (const crd of prometheusOperatorCrds()) {
      crds.push(crd.metadata.name);
      await kube.apply(crd, 'eap-tests', true);
    }
    const installed = Date.now();
    await eventually(
      'ServiceMonitorReady=True',
      async () => ((await condition('ServiceMonitorReady'))?.status === 'True' ? true : undefined),
      60_000,
      500,
    );
    console.log(`monitoring: ServiceMonitorReady=True ${((Date.now() - installed) / 1000).toFixed(1)} s after the CRDs were applied`);
    const monitors = await kube.list('monitoring.coreos.com/v1', 'ServiceMonitor', pipeline.namespace);
    expect(monitors.map((item) => item.metadata?.name).sort()).toEqual([`${pipeline.name}-api`, `${pipeline.name}-worker`]);
  });
});

describe('deletion', () => {
  it('removes everything an EventPipeline created when it is deleted', async () => {
    const selector = `app.kubernetes.io/managed-by=eap-operator,app.kubernetes.io/instance=${pipeline.name}`;
    const owned = async () => {
      const kinds = [
        ['apps/v1', 'Deployment'],
        ['v1', 'Service'],
        ['batch/v1', 'Job'],
        ['policy/v1', 'PodDisruptionBudget'],
        ['v1', 'ConfigMap'],
        ['v1', 'Pod'],
      ] as const;
      const lists = await Promise.all(
        kinds.map(async ([apiVersion, kind]) =>
          (await kube.list(apiVersion, kind, pipeline.namespace, selector)).map((item) => `${kind} ${item.metadata?.name}`),
        ),
      );
      return lists.flat();
    };
    expect((await owned()).length).toBeGreaterThan(0);
    await kube.delete(pipelineObject());
    await eventually('no object of the pipeline left', async () => ((await owned()).length === 0 ? true : undefined), 180_000, 1_000);
  });

  it('helm uninstall leaves no operator objects behind', async () => {
    const kubeconfig = inject('kindKubeconfig');
    execFileSync(toolPath('helm'), ['uninstall', 'eap-operator', '--namespace', OPERATOR_NAMESPACE, '--wait', '--kubeconfig', kubeconfig], {
      stdio: 'inherit',
    });
    try {
      const left = async () => {
        const byLabel = 'app.kubernetes.io/name=eap-operator';
        const rbac = 'rbac.authorization.k8s.io/v1';
        const lists = await Promise.all([
          kube.list('apps/v1', 'Deployment', OPERATOR_NAMESPACE, byLabel),
          kube.list('v1', 'Pod', OPERATOR_NAMESPACE, byLabel),
          kube.list('v1', 'ServiceAccount', OPERATOR_NAMESPACE, byLabel),
          kube.list('v1', 'Service', OPERATOR_NAMESPACE, byLabel),
          // Cluster-scoped kinds: no namespace.
          kube.list(rbac, 'ClusterRole', undefined, byLabel),
          kube.list(rbac, 'ClusterRoleBinding', undefined, byLabel),
          kube.list(rbac, 'Role', OPERATOR_NAMESPACE, byLabel),
          kube.list(rbac, 'RoleBinding', OPERATOR_NAMESPACE, byLabel),
        ]);
        return lists.flat().map((item) => item.metadata?.name);
      };
      await eventually('no operator object left', async () => ((await left()).length === 0 ? true : undefined), 120_000, 1_000);
      // The CRD stays, as Helm keeps crds/ on uninstall (deleting it would delete every pipeline).
      expect(await kube.find(crdRef('eventpipelines.eap.dev'))).toBeDefined();
    } finally {
      // Leave the cluster as `make deploy` made it.
      await make(['deploy'], { KUBECONFIG: kubeconfig });
    }
  });
});
