import { buildAdminApp } from '@eap/admin-server';
import type { Logger } from '@eap/core';
import {
  EVENT_PIPELINE,
  INSTANCE_LABEL,
  LEADER_LEASE_NAME,
  MANAGED_BY_LABEL,
  type MonitoringAssets,
  loadMonitoringAssets,
} from '@eap/manifests';
import type { FastifyInstance } from 'fastify';
import { createAutoscaler } from './autoscaler/autoscaler.ts';
import { type OperatorConfig, identityOf } from './config.ts';
import { createEventRecorder } from './event-recorder.ts';
import { createInformer } from './kube/informer.ts';
import { KubeApiError, type KubeClient, type KubeObject } from './kube/kube-client.ts';
import { RESOURCES } from './kube/resources.ts';
import { createLeaderElector, type LeaderElector } from './leader-election.ts';
import { createOperatorMetrics } from './metrics.ts';
import { discoverMonitoringApis } from './monitoring-discovery.ts';
import type { DeploymentLike } from './reconcile/availability.ts';
import { createPipelineReconciler, InvalidSpecError } from './reconcile/pipeline-reconciler.ts';
import { createWorkQueue } from './work-queue.ts';

export interface Operator {
  /** Serves /metrics and /healthz, then competes for leadership; reconciles while leading. */
  start(): Promise<void>;
  /** Stops reconciling, hands the Lease over and closes the metrics server. */
  stop(): Promise<void>;
  /** Resolves when leadership is lost (the process should exit so it restarts clean). */
  readonly lostLeadership: Promise<void>;
  readonly isLeader: boolean;
  readonly metricsPort: number | undefined;
}

/** The owning EventPipeline's key of a child object, from its controller owner reference. */
function ownerKey(object: KubeObject): string | undefined {
  const owner = object.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === EVENT_PIPELINE.kind);
  return owner ? `${object.metadata?.namespace}/${owner.name}` : undefined;
}

/**
 * The operator process: informers on EventPipelines and on the Deployments and Jobs it owns, a
 * work queue with per-item backoff feeding RECONCILE_WORKERS reconcilers, the autoscaler loops,
 * leader election, and the metrics/health server. Composition root; tests build it too.
 */
export function createOperator(options: { config: OperatorConfig; kube: KubeClient; logger: Logger; assets?: MonitoringAssets }): Operator {
  const { config, kube, logger } = options;
  const identity = identityOf(config);
  const metrics = createOperatorMetrics();
  const queue = createWorkQueue({ baseDelayMs: 500, maxDelayMs: 300_000 });
  const recordEvent = createEventRecorder(kube, logger, identity);
  const autoscaler = createAutoscaler({ kube, logger, metrics, recordEvent, onStateChange: (key) => queue.add(key) });
  const watchNamespace = config.WATCH_NAMESPACE;
  const managed = Object.entries(MANAGED_BY_LABEL)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

  const pipelines = createInformer<KubeObject>({
    kube,
    resource: RESOURCES.eventPipeline,
    namespace: watchNamespace,
    logger,
    onEvent: (type, object) => {
      const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
      metrics.pipelines.set(pipelines.list().length);
      queue.add(key);
      if (type === 'deleted') logger.info({ pipeline: key }, 'EventPipeline deleted; children are garbage-collected');
    },
  });
  const enqueueOwner = (_type: string, object: KubeObject) => {
    const key = ownerKey(object);
    if (key) queue.add(key);
  };
  const childSelector = `${managed},${INSTANCE_LABEL}`;
  const deployments = createInformer<DeploymentLike>({
    kube,
    resource: RESOURCES.deployment,
    namespace: watchNamespace,
    labelSelector: childSelector,
    logger,
    onEvent: enqueueOwner,
  });
  const jobs = createInformer<KubeObject>({
    kube,
    resource: RESOURCES.job,
    namespace: watchNamespace,
    labelSelector: childSelector,
    logger,
    onEvent: enqueueOwner,
  });

  /** The monitoring kinds the latest reconcile saw served (JSON), for {@link watchMonitoringApis}. */
  let monitoringSeen: string | undefined;
  const reconcile = createPipelineReconciler({
    kube,
    logger,
    recordEvent,
    autoscaler,
    assets: options.assets ?? loadMonitoringAssets(),
    discoverMonitoring: async () => {
      const apis = await discoverMonitoringApis(kube);
      monitoringSeen = JSON.stringify(apis);
      return apis;
    },
    caches: { pipelines, deployments, jobs },
  });

  let running = false;
  let workers: Promise<void>[] = [];
  let resyncTimer: NodeJS.Timeout | undefined;
  let discoveryTimer: NodeJS.Timeout | undefined;
  let admin: FastifyInstance | undefined;
  let elector: LeaderElector | undefined;
  let resolveLost: () => void = () => {};
  const lostLeadership = new Promise<void>((resolve) => {
    resolveLost = resolve;
  });

  async function reconcileOne(key: string): Promise<void> {
    const end = metrics.reconcileDuration.startTimer();
    try {
      await reconcile(key);
      queue.forget(key);
      metrics.reconciles.inc({ result: 'success' });
    } catch (error) {
      metrics.reconciles.inc({ result: 'error' });
      if (error instanceof InvalidSpecError) {
        // Reported in the status; the next change of the object brings it back.
        metrics.reconcileErrors.inc({ kind: 'invalid_spec' });
        queue.forget(key);
      } else {
        metrics.reconcileErrors.inc({ kind: error instanceof KubeApiError ? 'kubernetes' : 'internal' });
        logger.warn({ err: error, pipeline: key, retries: queue.retries(key) }, 'reconcile failed; retrying with backoff');
        queue.addRateLimited(key);
      }
    } finally {
      end();
    }
  }

  async function workerLoop(): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      metrics.queueDepth.set(queue.length);
      try {
        await reconcileOne(key);
      } finally {
        queue.done(key);
      }
    }
  }

  const enqueueAll = () => {
    for (const object of pipelines.list()) queue.add(`${object.metadata?.namespace}/${object.metadata?.name}`);
  };

  /**
   * Installing the Prometheus Operator's CRDs changes nothing the informers see, so an idle
   * pipeline would notice only at the next resync. Discovery is asked every
   * MONITORING_DISCOVERY_SECONDS instead (one small GET); an answer that differs from the one the
   * last reconcile used reconciles everything.
   */
  function watchMonitoringApis(): NodeJS.Timeout {
    let asking = false;
    return setInterval(() => {
      if (asking) return;
      asking = true;
      discoverMonitoringApis(kube)
        .then((apis) => {
          const answer = JSON.stringify(apis);
          if (monitoringSeen === undefined || answer === monitoringSeen) return;
          logger.info({ monitoring: apis }, 'Prometheus Operator kinds changed; reconciling every EventPipeline');
          monitoringSeen = answer;
          enqueueAll();
        })
        .catch((error: unknown) => logger.debug({ err: error }, 'monitoring discovery failed; asking again next period'))
        .finally(() => {
          asking = false;
        });
    }, config.MONITORING_DISCOVERY_SECONDS * 1000);
  }

  async function startReconciling(): Promise<void> {
    metrics.isLeader.set(1);
    await Promise.all([pipelines.start(), deployments.start(), jobs.start()]);
    if (!running) return;
    workers = Array.from({ length: config.RECONCILE_WORKERS }, () => workerLoop());
    resyncTimer = setInterval(enqueueAll, config.RESYNC_SECONDS * 1000);
    discoveryTimer = watchMonitoringApis();
    logger.info({ identity, namespace: watchNamespace ?? '(all)' }, 'reconciling EventPipelines');
  }

  async function stopReconciling(): Promise<void> {
    clearInterval(resyncTimer);
    clearInterval(discoveryTimer);
    queue.shutDown();
    pipelines.stop();
    deployments.stop();
    jobs.stop();
    await autoscaler.stop();
    await Promise.all(workers);
    metrics.isLeader.set(0);
  }

  return {
    async start() {
      running = true;
      admin = await buildAdminApp({ logger, registry: metrics.registry, checks: [], isShuttingDown: () => !running });
      admin.get('/healthz', async () => ({ status: 'ok', leader: elector?.isLeader ?? !config.LEADER_ELECTION }));
      await admin.listen({ host: config.HOST, port: config.METRICS_PORT });
      if (!config.LEADER_ELECTION) {
        await startReconciling();
        return;
      }
      elector = createLeaderElector({
        kube,
        logger,
        namespace: config.POD_NAMESPACE ?? kube.connection.namespace ?? 'eap-system',
        name: LEADER_LEASE_NAME,
        identity,
        leaseDurationMs: config.LEASE_DURATION_SECONDS * 1000,
        renewDeadlineMs: config.RENEW_DEADLINE_SECONDS * 1000,
        retryPeriodMs: config.RETRY_PERIOD_SECONDS * 1000,
        onStartedLeading: () => {
          startReconciling().catch((error: unknown) => logger.error({ err: error }, 'could not start reconciling'));
        },
        onStoppedLeading: () => {
          void stopReconciling().finally(resolveLost);
        },
      });
      elector.start();
    },
    async stop() {
      running = false;
      await stopReconciling();
      await elector?.release();
      await admin?.close();
    },
    lostLeadership,
    get isLeader() {
      return config.LEADER_ELECTION ? (elector?.isLeader ?? false) : running;
    },
    get metricsPort() {
      const address = admin?.server.address();
      return typeof address === 'object' && address ? address.port : undefined;
    },
  };
}
