import type { Server } from 'node:http';
import type { Logger } from '@eap/core';
import {
  EVENT_PIPELINE,
  INSTANCE_LABEL,
  LEADER_LEASE_NAME,
  MANAGED_BY_LABEL,
  type MonitoringAssets,
  loadMonitoringAssets,
} from '@eap/manifests';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createAutoscaler } from './autoscaler/autoscaler.ts';
import { type OperatorConfig, identityOf } from './config.ts';
import { createEventRecorder } from './event-recorder.ts';
import { closeHealthServer, type HealthState, startHealthServer } from './health-server.ts';
import { createKubeClients, describeKubeError, httpStatusOf } from './kube-clients.ts';
import { contextNamespace } from './kube-config-loader.ts';
import { createLeaderElector, type LeaderElector } from './leader-election.ts';
import { createOperatorMetrics } from './metrics.ts';
import { discoverMonitoringApis } from './monitoring-discovery.ts';
import { createPipelineReconciler, InvalidSpecError } from './reconcile/pipeline-reconciler.ts';
import { createResourceInformer, type ResourceInformer, type SyncFailure } from './resource-informer.ts';
import { deployments, eventPipelines, jobs, type WatchedResource } from './watched-resources.ts';
import { createWorkQueue } from './work-queue.ts';

/** Why an operator stopped working by itself; the process should exit 1 so Kubernetes restarts it. */
export interface OperatorEnd {
  reason: 'lost-leadership' | 'caches-unsynced';
  message: string;
}

export interface Operator {
  /** Serves /metrics, /livez and /readyz, then competes for leadership; reconciles while leading. */
  start(): Promise<void>;
  /** Stops reconciling, hands the Lease over and closes the metrics server. */
  stop(): Promise<void>;
  /**
   * Resolves when the operator stopped working by itself: leadership lost, or a watched kind's
   * cache did not sync in time or stopped following the cluster (it has released the Lease then).
   */
  readonly ended: Promise<OperatorEnd>;
  /** Resolves with {@link ended}. */
  readonly lostLeadership: Promise<void>;
  readonly isLeader: boolean;
  /** What /readyz answers. */
  readonly isReady: boolean;
  readonly metricsPort: number | undefined;
}

/** The owning EventPipeline's key of a child object, from its controller owner reference. */
function ownerKey(object: KubernetesObject): string | undefined {
  const owner = object.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === EVENT_PIPELINE.kind);
  return owner ? `${object.metadata?.namespace}/${owner.name}` : undefined;
}

/**
 * The operator process: informers on EventPipelines and on the Deployments and Jobs it owns, a
 * work queue with per-item backoff feeding RECONCILE_WORKERS reconcilers, the autoscaler loops,
 * leader election, and the metrics/health server. Composition root; tests build it too, with
 * the KubeConfig of their choice (the library's clients are made from it here).
 */
export function createOperator(options: {
  config: OperatorConfig;
  kubeConfig: KubeConfig;
  logger: Logger;
  assets?: MonitoringAssets;
}): Operator {
  const { config, kubeConfig, logger } = options;
  const identity = identityOf(config);
  const clients = createKubeClients(kubeConfig);
  const metrics = createOperatorMetrics();
  const queue = createWorkQueue({ baseDelayMs: 500, maxDelayMs: 300_000, observer: metrics.workQueue.observer });
  metrics.workQueue.track(queue);
  const recordEvent = createEventRecorder(clients.core, logger, identity);
  const autoscaler = createAutoscaler({ clients, logger, metrics, recordEvent, onStateChange: (key) => queue.add(key) });
  const watchNamespace = config.WATCH_NAMESPACE;
  const childSelector = `${Object.entries(MANAGED_BY_LABEL)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')},${INSTANCE_LABEL}`;

  let ending: OperatorEnd | undefined;
  let resolveEnded: (end: OperatorEnd) => void = () => {};
  const ended = new Promise<OperatorEnd>((resolve) => {
    resolveEnded = resolve;
  });

  function informer<T extends KubernetesObject>(
    resource: WatchedResource<T>,
    onEvent: (type: 'added' | 'modified' | 'deleted', object: T) => void,
  ): ResourceInformer<T> {
    return createResourceInformer({
      kubeConfig,
      resource,
      logger,
      onEvent,
      syncTimeoutMs: config.CACHE_SYNC_TIMEOUT_SECONDS * 1000,
      inactivityTimeoutMs: config.WATCH_INACTIVITY_TIMEOUT_SECONDS * 1000,
      onSyncFailed: cachesFailed,
      onWatchRestart: (reason) => metrics.informers.watchRestarts.inc({ resource: resource.name, reason }),
    });
  }

  const pipelines = informer(eventPipelines(clients, watchNamespace), (type, object) => {
    const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
    metrics.pipelines.set(pipelines.list().length);
    queue.add(key);
    if (type === 'deleted') logger.info({ pipeline: key }, 'EventPipeline deleted; children are garbage-collected');
  });
  const enqueueOwner = (_type: string, object: KubernetesObject) => {
    const key = ownerKey(object);
    if (key) queue.add(key);
  };
  const deploymentCache = informer(deployments(clients, watchNamespace, childSelector), enqueueOwner);
  const jobCache = informer(jobs(clients, watchNamespace, childSelector), enqueueOwner);
  const informers: ResourceInformer<KubernetesObject>[] = [pipelines, deploymentCache, jobCache];

  /** The monitoring kinds the latest reconcile saw served (JSON), for {@link watchMonitoringApis}. */
  let monitoringSeen: string | undefined;
  const reconcile = createPipelineReconciler({
    clients,
    logger,
    recordEvent,
    autoscaler,
    assets: options.assets ?? loadMonitoringAssets(),
    discoverMonitoring: async () => {
      const apis = await discoverMonitoringApis(clients.configuration);
      monitoringSeen = JSON.stringify(apis);
      return apis;
    },
    caches: { pipelines, deployments: deploymentCache, jobs: jobCache },
  });

  let running = false;
  let reconciling = false;
  let workers: Promise<void>[] = [];
  let resyncTimer: NodeJS.Timeout | undefined;
  let discoveryTimer: NodeJS.Timeout | undefined;
  let server: Server | undefined;
  let elector: LeaderElector | undefined;
  let stopping: Promise<void> | undefined;

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
        metrics.reconcileErrors.inc({ kind: httpStatusOf(error) !== undefined ? 'kubernetes' : 'internal' });
        logger.warn(
          { pipeline: key, retries: queue.retries(key), error: describeKubeError(error) },
          'reconcile failed; retrying with backoff',
        );
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
      discoverMonitoringApis(clients.configuration)
        .then((apis) => {
          const answer = JSON.stringify(apis);
          if (monitoringSeen === undefined || answer === monitoringSeen) return;
          logger.info({ monitoring: apis }, 'Prometheus Operator kinds changed; reconciling every EventPipeline');
          monitoringSeen = answer;
          enqueueAll();
        })
        .catch((error: unknown) =>
          logger.debug({ error: describeKubeError(error) }, 'monitoring discovery failed; asking again next period'),
        )
        .finally(() => {
          asking = false;
        });
    }, config.MONITORING_DISCOVERY_SECONDS * 1000);
  }

  async function startReconciling(): Promise<void> {
    metrics.isLeader.set(1);
    await Promise.all(
      informers.map(async (cache) => {
        await cache.start();
        metrics.informers.synced.set({ resource: cache.resource }, cache.synced && !ending ? 1 : 0);
      }),
    );
    if (!running || ending || stopping) return;
    workers = Array.from({ length: config.RECONCILE_WORKERS }, () => workerLoop());
    resyncTimer = setInterval(enqueueAll, config.RESYNC_SECONDS * 1000);
    discoveryTimer = watchMonitoringApis();
    reconciling = true;
    logger.info({ identity, namespace: watchNamespace ?? '(all)' }, 'reconciling EventPipelines');
  }

  /** Stops the workers, loops and informers; once, however many callers ask. */
  function stopReconciling(): Promise<void> {
    stopping ??= (async () => {
      reconciling = false;
      clearInterval(resyncTimer);
      clearInterval(discoveryTimer);
      queue.shutDown();
      await Promise.all(informers.map((cache) => cache.stop()));
      await autoscaler.stop();
      await Promise.all(workers);
      metrics.isLeader.set(0);
    })();
    return stopping;
  }

  /** Stops working for good: not ready, reconciling stopped, the Lease released (a standby takes over at once), `ended` resolved. */
  function end(outcome: OperatorEnd, releaseLease: boolean): void {
    if (ending) return;
    ending = outcome;
    void (async () => {
      await stopReconciling();
      if (releaseLease) await elector?.release();
      resolveEnded(outcome);
    })();
  }

  /** An informer gave up: reconciling from a cache that does not follow the cluster would act on stale state. */
  function cachesFailed(failure: SyncFailure): void {
    if (ending || stopping) return;
    metrics.informers.synced.set({ resource: failure.resource }, 0);
    logger.error(
      { resource: failure.resource, failure: failure.kind, timeoutSeconds: config.CACHE_SYNC_TIMEOUT_SECONDS },
      `stopping: ${failure.message}`,
    );
    end({ reason: 'caches-unsynced', message: failure.message }, true);
  }

  const standbyAnswerWindowMs = Math.max(config.LEASE_DURATION_SECONDS, 3 * config.RETRY_PERIOD_SECONDS) * 1000;
  const health: HealthState = {
    live: () => running,
    leader: () => (config.LEADER_ELECTION ? (elector?.isLeader ?? false) : running),
    readiness() {
      const role = !config.LEADER_ELECTION ? 'single' : elector?.isLeader ? 'leader' : 'standby';
      if (!running) return { ready: false, role, detail: 'shutting down' };
      if (ending) return { ready: false, role, detail: ending.message };
      if (role === 'standby') {
        const answered = elector?.answeredWithin(standbyAnswerWindowMs) ?? false;
        return {
          ready: answered,
          role,
          detail: answered
            ? 'standby: the API server answers its Lease attempts'
            : `standby: no answer to its Lease attempts for ${standbyAnswerWindowMs / 1000} s`,
        };
      }
      const unsynced = informers.filter((cache) => !cache.synced).map((cache) => cache.resource);
      if (unsynced.length > 0) return { ready: false, role, detail: `caches syncing: ${unsynced.join(', ')}` };
      if (!reconciling) return { ready: false, role, detail: 'starting' };
      return { ready: true, role, detail: 'caches synced, reconciling' };
    },
  };

  return {
    async start() {
      running = true;
      server = await startHealthServer({ host: config.HOST, port: config.METRICS_PORT, registry: metrics.registry, state: health });
      // The port actually bound: METRICS_PORT 0 lets the system choose one.
      logger.info({ port: (server.address() as { port: number }).port }, 'serving /metrics, /livez and /readyz');
      if (!config.LEADER_ELECTION) {
        await startReconciling();
        return;
      }
      elector = createLeaderElector({
        coordination: clients.coordination,
        logger,
        namespace: config.POD_NAMESPACE ?? contextNamespace(kubeConfig) ?? 'eap-system',
        name: LEADER_LEASE_NAME,
        identity,
        leaseDurationMs: config.LEASE_DURATION_SECONDS * 1000,
        renewDeadlineMs: config.RENEW_DEADLINE_SECONDS * 1000,
        retryPeriodMs: config.RETRY_PERIOD_SECONDS * 1000,
        onStartedLeading: () => {
          startReconciling().catch((error: unknown) => logger.error({ error: describeKubeError(error) }, 'could not start reconciling'));
        },
        onStoppedLeading: () => end({ reason: 'lost-leadership', message: 'lost the leader Lease' }, false),
      });
      elector.start();
    },
    async stop() {
      running = false;
      await stopReconciling();
      await elector?.release();
      if (server) await closeHealthServer(server);
    },
    ended,
    lostLeadership: ended.then(() => {}),
    get isLeader() {
      return health.leader();
    },
    get isReady() {
      return health.readiness().ready;
    },
    get metricsPort() {
      const address = server?.address();
      return typeof address === 'object' && address ? address.port : undefined;
    },
  };
}
