import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BatchEnvelope, EapError, EVENT_LIMITS, maxEventAgeDays, toFieldErrors } from '@eap/core';
import type { ApiConfig } from '../config.ts';
import type { ApiMetrics } from '../metrics.ts';
import type { KeyAuthenticator } from '../key-authenticator.ts';
import { authenticateRequest } from '../request-key.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import type { IngestService } from '../ingest-service.ts';
import type { BacklogRefusal } from '../backlog-monitor.ts';
import type { RequestContext } from '../event-normalizer.ts';

export interface IngestRouteDeps {
  config: Pick<ApiConfig, 'STREAM_SHARDS' | 'EVENT_RETENTION_DAYS' | 'MAX_EVENT_AGE_DAYS'>;
  metrics: ApiMetrics;
  keys: KeyAuthenticator;
  rateLimiter: RateLimiter;
  /** Why this project's events must be refused now (backlog, memory or the project's share), if they must. */
  backlogRefusal: (projectId: string) => BacklogRefusal | undefined;
  /** True when the Redis connection is up. */
  streamReady: () => boolean;
  ingest: IngestService;
}

declare module 'fastify' {
  interface FastifyRequest {
    receivedAt?: number;
  }
}

// Built once: zod compiles a schema on first use, so deriving one per request is expensive.
const SentAtOnly = BatchEnvelope.pick({ sent_at: true });

/** POST /v1/events and POST /v1/batch: authenticate, limit, validate, append, report per event. */
export async function ingestRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  // Runs before the body is read, so refused requests cost no parsing.
  app.addHook('onRequest', async (request) => {
    request.receivedAt = Date.now();
    const key = await authenticateRequest(request, deps.keys, 'write');
    const waitSeconds = deps.rateLimiter.take(key.keyId);
    if (waitSeconds > 0) {
      deps.metrics.backpressureRefusals.inc({ reason: 'rate_limited' });
      throw new EapError('RATE_LIMITED', 'too many requests for this API key; slow down', { retryAfterSeconds: waitSeconds });
    }
    if (!deps.streamReady()) {
      deps.metrics.backpressureRefusals.inc({ reason: 'stream_unavailable' });
      throw new EapError('STREAM_UNAVAILABLE', 'the event stream is unavailable; nothing was accepted, retry later', {
        retryAfterSeconds: 2,
      });
    }
    const refusal = deps.backlogRefusal(key.projectId);
    if (refusal) {
      deps.metrics.backpressureRefusals.inc({ reason: refusal.reason });
      throw refusal.error;
    }
  });

  const ageDays = maxEventAgeDays(deps.config);
  const ageLimit =
    deps.config.EVENT_RETENTION_DAYS === undefined
      ? `MAX_EVENT_AGE_DAYS (${ageDays} days)`
      : `the retention of ${ageDays} days (EVENT_RETENTION_DAYS)`;

  function contextOf(request: FastifyRequest, sentAtRaw: string | undefined): RequestContext {
    const receivedAt = request.receivedAt ?? Date.now();
    return {
      projectId: request.apiKey!.projectId,
      receivedAt,
      receivedAtIso: new Date(receivedAt).toISOString(),
      sentAt: sentAtRaw === undefined ? undefined : Date.parse(sentAtRaw),
      sentAtRaw,
      shards: deps.config.STREAM_SHARDS,
      oldestAccepted: receivedAt - ageDays * 86_400_000,
      ageLimit,
    };
  }

  app.post('/v1/events', { config: { ingest: true } }, async (request, reply) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new EapError('INVALID_EVENT', 'request body must be a JSON object (one event); send arrays of events to /v1/batch');
    }
    const { sent_at: sentAt, ...event } = body as Record<string, unknown>;
    const envelope = SentAtOnly.safeParse(sentAt === undefined ? {} : { sent_at: sentAt });
    if (!envelope.success) {
      throw new EapError('INVALID_EVENT', 'the event is invalid', { details: toFieldErrors(envelope.error) });
    }
    const result = await deps.ingest.ingest([event], contextOf(request, envelope.data.sent_at));
    const rejection = result.rejected[0];
    if (rejection && !rejection.retriable) {
      throw new EapError('INVALID_EVENT', 'the event is invalid', { details: rejection.errors });
    }
    return reply.code(202).send(result);
  });

  app.post('/v1/batch', { config: { ingest: true } }, async (request, reply) => {
    const envelope = BatchEnvelope.safeParse(request.body);
    if (!envelope.success) {
      const events = (request.body as { events?: unknown } | null)?.events;
      if (Array.isArray(events) && events.length > EVENT_LIMITS.batchMaxEvents) {
        throw new EapError('BATCH_TOO_LARGE', `a batch holds at most ${EVENT_LIMITS.batchMaxEvents} events; this one has ${events.length}`);
      }
      throw new EapError('INVALID_REQUEST', 'the batch is invalid: send {"sent_at"?, "events": [...]}', {
        details: toFieldErrors(envelope.error),
      });
    }
    const result = await deps.ingest.ingest(envelope.data.events, contextOf(request, envelope.data.sent_at));
    return reply.code(202).send(result);
  });
}
