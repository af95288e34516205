import type { Logger } from '@eap/core';
import {
  buildMigrationJob,
  buildPipelineObjects,
  childNames,
  EVENT_PIPELINE,
  type EventPipeline,
  EventPipelineSpecSchema,
  type EventPipelineStatus,
  FIELD_MANAGER,
  imageReference,
  INSTANCE_LABEL,
  COMPONENT_LABEL,
  type KubeManifest,
  type MonitoringAssets,
  migrationJobName,
} from '@eap/manifests';
import type { KubernetesObject, V1Deployment, V1Job } from '@kubernetes/client-node';
import type { Autoscaler } from '../autoscaler/autoscaler.ts';
import type { EventRecorder } from '../event-recorder.ts';
import { httpStatusOf, type KubeClients, MERGE_PATCH, unlessNotFound } from '../kube-clients.ts';
import type { MonitoringApis } from '../monitoring-discovery.ts';
import type { ResourceInformer } from '../resource-informer.ts';
import type { EventPipelineObject } from '../watched-resources.ts';
import { apiCondition, deploymentImage, workersCondition } from './availability.ts';
import { type ConditionUpdate, mergeConditions, readyCondition } from './conditions.ts';
import { type JobLike, migrationOutcome, migrationsCondition, servingImage } from './migration-gate.ts';

export interface ReconcilerDeps {
  clients: KubeClients;
  logger: Logger;
  recordEvent: EventRecorder;
  autoscaler: Autoscaler;
  assets: MonitoringAssets;
  discoverMonitoring: () => Promise<MonitoringApis>;
  caches: {
    pipelines: ResourceInformer<EventPipelineObject>;
    deployments: ResourceInformer<V1Deployment>;
    jobs: ResourceInformer<V1Job>;
  };
}

/** An object of a child kind, by name: what reads and deletes of the library's KubernetesObjectApi take. */
const childRef = (apiVersion: string, kind: string, name: string, namespace: string) => ({
  apiVersion,
  kind,
  metadata: { name, namespace },
});

/** A spec the operator cannot use; not retried until the object changes. */
class InvalidSpecError extends Error {}

/**
 * Reconciles one EventPipeline (level-based and idempotent: every run computes the whole desired
 * state from the object and the cluster, so a restarted operator simply converges):
 * 1. the migration Job of the desired image (created once, deterministic name);
 * 2. Services and (when enabled) NetworkPolicies always; API and worker Deployments and PDBs on
 *    the image whose migrations completed — server-side apply, field manager `eap-operator`,
 *    worker replicas left to the autoscaler;
 * 3. ServiceMonitors / PrometheusRule when the Prometheus Operator CRDs exist, dashboards;
 * 4. the autoscaler loop; 5. conditions, Events on transitions, and the status.
 */
export function createPipelineReconciler(deps: ReconcilerDeps) {
  const { clients, logger, caches } = deps;
  /** Generation and monitoring APIs last cleaned up per pipeline, so turned-off objects are deleted once. */
  const cleanedUp = new Map<string, string>();

  /** Server-side apply as `eap-operator`, forcing conflicts: the operator owns its children's fields. */
  async function apply(object: KubeManifest): Promise<void> {
    await clients.objects.apply(object as KubernetesObject, FIELD_MANAGER, true);
  }

  async function ensureMigrationJob(pipeline: EventPipeline, desiredImage: string, job: KubeManifest): Promise<JobLike> {
    const ns = pipeline.metadata.namespace;
    const name = job.metadata.name;
    const existing = caches.jobs.get(ns, name) ?? (await unlessNotFound(clients.batch.readNamespacedJob({ name, namespace: ns })));
    if (existing) return existing;
    // Created once and never re-applied: a Job's pod template is immutable.
    await apply(job);
    deps.recordEvent(pipeline, 'Normal', 'MigrationStarted', `Job ${name} runs the migrations of ${desiredImage}`);
    return job as JobLike;
  }

  async function deleteOldMigrationJobs(pipeline: EventPipeline, keep: string): Promise<void> {
    const old = caches.jobs.list(
      (job) =>
        job.metadata?.namespace === pipeline.metadata.namespace &&
        job.metadata?.labels?.[INSTANCE_LABEL] === pipeline.metadata.name &&
        job.metadata?.labels?.[COMPONENT_LABEL] === 'migrations' &&
        job.metadata?.name !== keep,
    );
    for (const job of old) {
      const name = job.metadata?.name;
      if (name)
        await unlessNotFound(
          clients.batch.deleteNamespacedJob({ name, namespace: pipeline.metadata.namespace, propagationPolicy: 'Background' }),
        );
    }
  }

  /**
   * Deletes owned objects that are no longer wanted (turned off in the spec): monitoring objects,
   * NetworkPolicies, and the query Deployment, Services and PDB when `query.separate` is off.
   */
  async function deleteUnwanted(pipeline: EventPipeline, apis: MonitoringApis, wanted: Set<string>): Promise<void> {
    const ns = pipeline.metadata.namespace;
    const names = childNames(pipeline);
    const configMap = ['v1', 'ConfigMap'] as const;
    const networkPolicy = ['networking.k8s.io/v1', 'NetworkPolicy'] as const;
    const serviceMonitor = ['monitoring.coreos.com/v1', 'ServiceMonitor'] as const;
    const candidates: Array<readonly [string, string, string]> = [
      [...configMap, names.dashboard('pipeline-health')],
      [...configMap, names.dashboard('product-overview')],
      [...networkPolicy, names.api],
      [...networkPolicy, names.worker],
      [...networkPolicy, names.query],
      ['apps/v1', 'Deployment', names.query],
      ['v1', 'Service', names.query],
      ['v1', 'Service', names.queryMetrics],
      ['policy/v1', 'PodDisruptionBudget', names.query],
    ];
    if (apis.serviceMonitors) {
      candidates.push([...serviceMonitor, names.api], [...serviceMonitor, names.worker], [...serviceMonitor, names.query]);
    }
    if (apis.prometheusRules) candidates.push(['monitoring.coreos.com/v1', 'PrometheusRule', names.prometheusRule]);
    for (const [apiVersion, kind, name] of candidates) {
      if (wanted.has(`${kind}/${name}`)) continue;
      const ref = childRef(apiVersion, kind, name, ns);
      const existing = await unlessNotFound(clients.objects.read(ref));
      // Only what this pipeline owns: never a same-named object someone else made.
      if (existing?.metadata?.ownerReferences?.some((owner) => owner.uid === pipeline.metadata.uid)) {
        await unlessNotFound(clients.objects.delete(ref));
      }
    }
  }

  function monitoringCondition(pipeline: EventPipeline, apis: MonitoringApis): ConditionUpdate {
    const { serviceMonitor, prometheusRule } = pipeline.spec.monitoring;
    if (!serviceMonitor.enabled && !prometheusRule.enabled) {
      return {
        type: 'ServiceMonitorReady',
        status: 'True',
        reason: 'Disabled',
        message: 'monitoring.serviceMonitor and monitoring.prometheusRule are off',
      };
    }
    const missing = [
      serviceMonitor.enabled && !apis.serviceMonitors ? 'ServiceMonitor' : '',
      prometheusRule.enabled && !apis.prometheusRules ? 'PrometheusRule' : '',
    ].filter(Boolean);
    if (missing.length > 0) {
      return {
        type: 'ServiceMonitorReady',
        status: 'False',
        reason: 'CRDNotInstalled',
        message: `the cluster does not serve monitoring.coreos.com/v1 ${missing.join(' and ')}: install the Prometheus Operator CRDs or turn these off`,
      };
    }
    return { type: 'ServiceMonitorReady', status: 'True', reason: 'Created', message: 'ServiceMonitors and PrometheusRule applied' };
  }

  /**
   * The status this operator last wrote, by object uid. Only the operator writes the status, so
   * its own last write is newer than an informer cache that has not caught up yet; using it keeps
   * a reconcile triggered by another event from repeating Events and status writes. By key, with
   * the uid, so a recreated object of the same name starts afresh.
   */
  const lastWritten = new Map<string, { uid: string; status: EventPipelineStatus }>();

  async function writeStatus(
    raw: EventPipelineObject,
    pipeline: EventPipeline,
    updates: ConditionUpdate[],
    extra: Partial<EventPipelineStatus>,
  ): Promise<void> {
    const key = `${pipeline.metadata.namespace}/${pipeline.metadata.name}`;
    const uid = pipeline.metadata.uid ?? '';
    const mine = lastWritten.get(key);
    const previous = mine?.uid === uid ? mine.status : (raw.status ?? {});
    const generation = pipeline.metadata.generation ?? 0;
    const { conditions, transitions } = mergeConditions(
      previous.conditions,
      updates,
      generation,
      new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    );
    const status: EventPipelineStatus = { ...previous, ...extra, observedGeneration: generation, conditions };
    if (JSON.stringify(status) === JSON.stringify(previous)) return;
    try {
      await clients.customObjects.patchNamespacedCustomObjectStatus(
        {
          group: EVENT_PIPELINE.group,
          version: EVENT_PIPELINE.version,
          plural: EVENT_PIPELINE.plural,
          namespace: pipeline.metadata.namespace,
          name: pipeline.metadata.name,
          body: { status },
          fieldManager: FIELD_MANAGER,
        },
        MERGE_PATCH,
      );
    } catch (error) {
      // Deleted meanwhile: the informer brings the deletion next.
      if (httpStatusOf(error) === 404) return;
      throw error;
    }
    lastWritten.set(key, { uid, status });
    for (const t of transitions) {
      deps.recordEvent(pipeline, t.status === 'False' ? 'Warning' : 'Normal', t.reason, `${t.type} is ${t.status}: ${t.message}`);
    }
  }

  return async function reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const raw = caches.pipelines.get(namespace, name);
    if (!raw || raw.metadata?.deletionTimestamp) {
      // Children are deleted by the garbage collector through their owner references.
      deps.autoscaler.remove(key);
      cleanedUp.delete(key);
      lastWritten.delete(key);
      return;
    }
    const parsed = EventPipelineSpecSchema.safeParse(raw.spec);
    const meta = raw.metadata as unknown as EventPipeline['metadata'];
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`).join('; ');
      const pipeline = { ...(raw as unknown as EventPipeline), metadata: meta };
      await writeStatus(raw, pipeline, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }], {});
      throw new InvalidSpecError(message);
    }
    const pipeline: EventPipeline = { apiVersion: String(raw.apiVersion), kind: String(raw.kind), metadata: meta, spec: parsed.data };
    const status: EventPipelineStatus = raw.status ?? {};
    const names = childNames(pipeline);
    const apis = await deps.discoverMonitoring();

    // 1. Migrations gate the image.
    const desiredImage = imageReference(pipeline.spec.image);
    const jobName = migrationJobName(pipeline, desiredImage);
    const job = await ensureMigrationJob(pipeline, desiredImage, buildMigrationJob(pipeline, desiredImage) as KubeManifest);
    const outcome = migrationOutcome(job);
    const liveApi = caches.deployments.get(namespace, names.api);
    const serving = servingImage({ desiredImage, outcome, statusImage: status.servingImage, liveImage: deploymentImage(liveApi) });
    if (outcome.state === 'succeeded') await deleteOldMigrationJobs(pipeline, jobName);

    // 2 and 3. Everything else, on the serving image.
    const objects = buildPipelineObjects(pipeline, { servingImage: serving, monitoringApis: apis, assets: deps.assets });
    const desired = [
      ...objects.services,
      ...objects.networkPolicies,
      ...objects.workloads,
      ...objects.serviceMonitors,
      ...objects.prometheusRules,
      ...objects.dashboards,
    ];
    // Independent objects: applied concurrently, so a spec change reaches every child at once.
    await Promise.all(desired.map((object) => apply(object)));
    const cleanupKey = `${pipeline.metadata.generation}:${JSON.stringify(apis)}`;
    if (cleanedUp.get(key) !== cleanupKey) {
      await deleteUnwanted(pipeline, apis, new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`)));
      cleanedUp.set(key, cleanupKey);
    }

    // 4. Autoscaler (it waits for the worker Deployment by itself).
    deps.autoscaler.sync(pipeline);
    const scaling = deps.autoscaler.state(key);

    // 5. Conditions and status.
    const workerDeployment = caches.deployments.get(namespace, names.worker);
    const queryDeployment = pipeline.spec.query.separate ? caches.deployments.get(namespace, names.query) : undefined;
    const parts: ConditionUpdate[] = [
      migrationsCondition(jobName, desiredImage, outcome, serving),
      apiCondition(liveApi, serving !== undefined, pipeline.spec.query.separate ? { query: queryDeployment } : undefined),
      workersCondition(workerDeployment, serving !== undefined),
      {
        type: 'AutoscalerHealthy',
        status: scaling?.healthy ?? 'Unknown',
        reason: scaling?.reason ?? 'Starting',
        message: scaling?.message ?? 'the first backlog measurement is pending',
      },
      monitoringCondition(pipeline, apis),
    ];
    await writeStatus(raw, pipeline, [readyCondition(parts), ...parts], {
      servingImage: serving,
      workers: {
        replicas: workerDeployment?.spec?.replicas ?? scaling?.replicas,
        desiredReplicas: scaling?.desiredReplicas,
        backlog: scaling?.backlog,
        lastScaleTime: scaling?.lastScaleTime,
      },
    });
    logger.debug({ pipeline: key, serving, migrations: outcome.state }, 'reconciled');
  };
}

export { InvalidSpecError };
