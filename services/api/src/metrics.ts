import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RequestDurationHistogram } from './request-duration-histogram.ts';

/** Every metric the API exports, on its own registry (so tests can build several apps). */
export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'eap_api_' });
  return {
    registry,
    // Labelled by method, route and status code; observed once per request, so counted without
    // prom-client's per-observation label handling (request-duration-histogram.ts).
    requestDuration: new RequestDurationHistogram({
      name: 'eap_api_request_duration_seconds',
      help: 'HTTP request duration on the public port, by route and status code.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsAccepted: new Counter({
      name: 'eap_api_events_accepted_total',
      help: 'Events durably appended to a shard stream.',
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'eap_api_events_rejected_total',
      help: 'Events of a parsed request that were not accepted, by reason (invalid_event, storage_failed).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    requestsRejected: new Counter({
      name: 'eap_api_requests_rejected_total',
      help: 'Ingest requests refused as a whole, by error code (UNAUTHORIZED, MALFORMED_JSON, PAYLOAD_TOO_LARGE, ...).',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    backpressureRefusals: new Counter({
      name: 'eap_api_backpressure_refusals_total',
      help: 'Requests refused to protect the pipeline, by reason (backlog_full, stream_unavailable, rate_limited).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    streamAppendDuration: new Histogram({
      name: 'eap_api_stream_append_duration_seconds',
      help: 'Duration of one append script call (the events of every request that asked in the same two turns of the event loop, in one round trip), from the first of those requests asking to the answer.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
      registers: [registry],
    }),
    streamBacklog: new Gauge({
      name: 'eap_api_stream_backlog_events',
      help: 'Undelivered plus pending entries across all shard streams, as last measured.',
      registers: [registry],
    }),
    queriesRunning: new Gauge({
      name: 'eap_api_queries_running',
      help: 'Query API requests running now in this process (bounded by QUERY_MAX_CONCURRENT).',
      registers: [registry],
    }),
    queriesRefused: new Counter({
      name: 'eap_api_queries_refused_total',
      help: 'Query API requests refused with 429 TOO_MANY_QUERIES, by the limit reached (per_key, per_process).',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    keyLookups: new Counter({
      name: 'eap_api_key_lookups_total',
      help: 'API key authentications by outcome (hit, negative_hit, miss, stale; malformed: not shaped like a key, refused without a lookup).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;
