import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The operator's own metrics, served on METRICS_PORT at /metrics. */
export function createOperatorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'eap_operator_' });
  return {
    registry,
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
