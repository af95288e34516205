import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueue, WorkQueueObserver } from './work-queue.ts';

/** Name of the operator's one work queue in the `workqueue_*` series (label `name`). */
export const WORK_QUEUE_NAME = 'eventpipeline';

/**
 * The work queue's series under the names client-go and controller-runtime use (`workqueue_*`,
 * label `name`), so dashboards and alerts written for Go controllers read them unchanged.
 * Returns the observer to give createWorkQueue and `track(queue)` for the gauges read at scrape.
 */
function createWorkQueueMetrics(registry: Registry) {
  const labels = { name: WORK_QUEUE_NAME };
  const labelNames = ['name'] as const;
  const durationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  let tracked: WorkQueue | undefined;
  const depth = new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in the work queue.', labelNames, registers: [registry] });
  const adds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the work queue.', labelNames, registers: [registry] });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Failed keys scheduled again after their backoff.',
    labelNames,
    registers: [registry],
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'Time a key waited in the work queue before a worker took it.',
    labelNames,
    buckets: durationBuckets,
    registers: [registry],
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'Time a worker spent on one key.',
    labelNames,
    buckets: durationBuckets,
    registers: [registry],
  });
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: 'Seconds the keys in progress have been running, summed; growth means stuck workers.',
    labelNames,
    registers: [registry],
    collect() {
      this.set(labels, tracked?.unfinishedWorkSeconds() ?? 0);
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'Seconds the longest-running key in progress has been running.',
    labelNames,
    registers: [registry],
    collect() {
      this.set(labels, tracked?.longestRunningSeconds() ?? 0);
    },
  });
  const observer: WorkQueueObserver = {
    added(waiting) {
      adds.inc(labels);
      depth.set(labels, waiting);
    },
    started(waitedSeconds, waiting) {
      queueDuration.observe(labels, waitedSeconds);
      depth.set(labels, waiting);
    },
    finished(seconds) {
      workDuration.observe(labels, seconds);
    },
    retried() {
      retries.inc(labels);
    },
  };
  return {
    observer,
    /** Reads the in-progress gauges from `queue` at each scrape. */
    track(queue: WorkQueue) {
      tracked = queue;
    },
  };
}

/** The informers' list-and-watch caches: whether each synced, and watches opened again (operator/src/resource-informer.ts). */
function createInformerMetrics(registry: Registry) {
  return {
    synced: new Gauge({
      name: 'eap_operator_informer_synced',
      help: '1 once the cache of a watched kind (resource) has synced, 0 before and after it gave up.',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: 'eap_operator_watch_restarts_total',
      help: 'Watches opened again after an error or after receiving nothing for WATCH_INACTIVITY_TIMEOUT_SECONDS, by resource and reason (error, inactivity).',
      labelNames: ['resource', 'reason'] as const,
      registers: [registry],
    }),
  };
}

/** The operator's own metrics, served on METRICS_PORT at /metrics. */
export function createOperatorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'eap_operator_' });
  return {
    registry,
    workQueue: createWorkQueueMetrics(registry),
    informers: createInformerMetrics(registry),
    reconciles: new Counter({
      name: 'eap_operator_reconciles_total',
      help: 'Reconciles of EventPipelines by result (success, error).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'eap_operator_reconcile_errors_total',
      help: 'Failed reconciles by the kind of error (kubernetes, invalid_spec, internal).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'eap_operator_reconcile_duration_seconds',
      help: 'Time to reconcile one EventPipeline.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'eap_operator_queue_depth', help: 'EventPipelines waiting to be reconciled.', registers: [registry] }),
    isLeader: new Gauge({
      name: 'eap_operator_leader',
      help: '1 while this replica holds the leader Lease, else 0.',
      registers: [registry],
    }),
    pipelines: new Gauge({ name: 'eap_operator_pipelines', help: 'EventPipelines in the informer cache.', registers: [registry] }),
    backlog: new Gauge({
      name: 'eap_operator_backlog_events',
      help: 'Backlog (lag + pending over all shards) the autoscaler last measured.',
      labelNames: ['namespace', 'pipeline'] as const,
      registers: [registry],
    }),
    workerReplicas: new Gauge({
      name: 'eap_operator_worker_replicas',
      help: 'Worker replicas the autoscaler last set or kept.',
      labelNames: ['namespace', 'pipeline'] as const,
      registers: [registry],
    }),
    scaleEvents: new Counter({
      name: 'eap_operator_scale_events_total',
      help: 'Worker replica changes made by the autoscaler, by direction.',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    autoscalerErrors: new Counter({
      name: 'eap_operator_autoscaler_errors_total',
      help: 'Autoscaler ticks that kept the replicas because of an error, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
