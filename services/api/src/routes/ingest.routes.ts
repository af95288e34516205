import type { FastifyInstance } from 'fastify';
import { BatchEnvelope, EapError, EVENT_LIMITS, toFieldErrors } from '@eap/core';
import { admitIngest, type IngestRouteDeps, requestContextBuilder } from '../ingest-admission.ts';
import { readApiKey } from '../request-key.ts';
import { createSegmentIngest } from './compat/segment.routes.ts';

export type { IngestRouteDeps } from '../ingest-admission.ts';

// Built once: zod compiles a schema on first use, so deriving one per request is expensive.
const SentAtOnly = BatchEnvelope.pick({ sent_at: true });

/**
 * POST /v1/events and POST /v1/batch: authenticate, limit, validate, append, report per event.
 * /v1/batch is also Segment's batch path: a body `{"batch": [...]}` is a Segment batch, answered
 * as Segment answers; `{"events": [...]}` is EAP's (docs/sdk-endpoints.md).
 */
export async function ingestRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  const { segmentBatch } = createSegmentIngest(deps);
  // Runs before the body is read, so refused requests cost no parsing. A /v1/batch request with
  // no key in its headers may be analytics.js carrying `writeKey` in the body: it is admitted
  // once the body is read.
  // Callback style: a request whose key is cached is admitted without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    request.receivedAt = Date.now();
    const rawKey = readApiKey(request);
    if (rawKey === undefined && request.routeOptions.url === '/v1/batch') return done();
    let admitted: ReturnType<typeof admitIngest>;
    try {
      admitted = admitIngest(request, deps, rawKey);
    } catch (error) {
      return done(error as Error);
    }
    if (admitted instanceof Promise) admitted.then(() => done(), done);
    else done();
  });

  const contextOf = requestContextBuilder(deps.config);

  app.post('/v1/events', { config: { ingest: true } }, async (request, reply) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new EapError('INVALID_EVENT', 'request body must be a JSON object (one event); send arrays of events to /v1/batch');
    }
    // Most single events carry no sent_at: they go on as parsed, with no copy and no envelope parse.
    let event = body as Record<string, unknown>;
    let sentAt: string | undefined;
    if (Object.hasOwn(event, 'sent_at')) {
      const { sent_at: given, ...rest } = event;
      const envelope = SentAtOnly.safeParse({ sent_at: given });
      if (!envelope.success) {
        throw new EapError('INVALID_EVENT', 'the event is invalid', { details: toFieldErrors(envelope.error) });
      }
      event = rest;
      sentAt = envelope.data.sent_at;
    }
    const result = await deps.ingest.ingest([event], contextOf(request, sentAt));
    const rejection = result.rejected[0];
    if (rejection && !rejection.retriable) {
      throw new EapError('INVALID_EVENT', 'the event is invalid', { details: rejection.errors });
    }
    return reply.code(202).send(result);
  });

  app.post('/v1/batch', { config: { ingest: true } }, async (request, reply) => {
    if (Array.isArray((request.body as { batch?: unknown } | null)?.batch)) return segmentBatch(request, reply);
    if (!request.apiKey) await admitIngest(request, deps);
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
