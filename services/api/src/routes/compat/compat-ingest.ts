import type { FastifyRequest } from 'fastify';
import { BatchEnvelope, EapError, EVENT_LIMITS, type IngestResponse, type RejectedEvent } from '@eap/core';
import { admitIngest, type IngestRouteDeps } from '../../ingest-admission.ts';
import type { RequestContext } from '../../event-normalizer.ts';
import { isoFromMs, type MappedMessage } from '../../compat/mapped-message.ts';

const SentAtOnly = BatchEnvelope.pick({ sent_at: true });

/**
 * A protocol's send time (`sentAt`, `sent_at`, `client_upload_time`) as the ISO string the
 * request context takes: ISO as is, milliseconds (number or digits) converted. Anything else is a
 * 400 naming the field, as `sent_at` of /v1/batch is.
 */
export function sentAtIso(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const candidate =
    typeof value === 'number'
      ? isoFromMs(value)
      : typeof value === 'string' && /^\d{10,16}$/.test(value)
        ? isoFromMs(Number(value))
        : value;
  const parsed = SentAtOnly.safeParse({ sent_at: candidate });
  if (!parsed.success || parsed.data.sent_at === undefined) {
    throw new EapError('INVALID_REQUEST', `${field} must be an ISO 8601 date-time with a time zone (or milliseconds since the epoch)`, {
      details: [{ path: field, message: 'is not a date-time' }],
    });
  }
  return parsed.data.sent_at;
}

/** A batch over EAP's limit is refused as too large, which SDKs answer by sending smaller batches. */
export function checkBatchSize(count: number): void {
  if (count > EVENT_LIMITS.batchMaxEvents) {
    throw new EapError('PAYLOAD_TOO_LARGE', `a batch holds at most ${EVENT_LIMITS.batchMaxEvents} events; this one has ${count}`, {
      details: { limit_events: EVENT_LIMITS.batchMaxEvents },
    });
  }
}

/**
 * Ingests the mapped messages of one request through the ingest service (the validation, limits,
 * dedup and backpressure of /v1/batch) and reports every message at its index in the request:
 * accepted, or rejected (unmappable messages are rejected and counted like invalid events).
 */
export async function ingestMapped(deps: IngestRouteDeps, ctx: RequestContext, mapped: MappedMessage[]): Promise<IngestResponse> {
  const rawEvents: unknown[] = [];
  const positions: number[] = [];
  const unmapped: RejectedEvent[] = [];
  mapped.forEach((message, index) => {
    if (message.ok) {
      rawEvents.push(message.event);
      positions.push(index);
    } else {
      unmapped.push({
        index,
        ...(message.eventId === undefined ? {} : { event_id: message.eventId }),
        errors: message.errors,
        retriable: false,
      });
    }
  });
  if (unmapped.length > 0) deps.metrics.eventsRejected.inc({ reason: 'invalid_event' }, unmapped.length);
  if (rawEvents.length === 0) return { accepted: 0, rejected: unmapped };
  const inRequest = (rejected: RejectedEvent[]): RejectedEvent[] =>
    [...unmapped, ...rejected.map((r) => ({ ...r, index: positions[r.index] ?? r.index }))].sort((a, b) => a.index - b.index);
  try {
    const result = await deps.ingest.ingest(rawEvents, ctx);
    return { accepted: result.accepted, rejected: unmapped.length === 0 ? result.rejected : inRequest(result.rejected) };
  } catch (error) {
    const rejected = (error as EapError).details as { rejected?: RejectedEvent[] } | undefined;
    if (error instanceof EapError && Array.isArray(rejected?.rejected)) {
      throw new EapError(error.code, error.message, {
        details: { rejected: inRequest(rejected.rejected) },
        ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * The answer policy every protocol shares (docs/sdk-endpoints.md): an event that could not be
 * stored makes the whole request a 503 with Retry-After, so SDKs resend it (the events' ids
 * dedupe what was stored); a request of only invalid events is a 400 (SDKs do not resend those);
 * otherwise the protocol's success answer, with `accepted` and `rejected` beside it.
 */
export function settle(outcome: IngestResponse): IngestResponse {
  if (outcome.rejected.some((r) => r.retriable)) {
    throw new EapError(
      'STREAM_UNAVAILABLE',
      'some events could not be stored; resend the request (events keep their ids, so stored ones are not duplicated)',
      { retryAfterSeconds: 2, details: outcome },
    );
  }
  if (outcome.accepted === 0 && outcome.rejected.length > 0) {
    throw new EapError(
      'INVALID_EVENT',
      `${outcome.rejected.length === 1 ? 'the event is' : 'every event is'} invalid; nothing was stored`,
      {
        details: outcome,
      },
    );
  }
  return outcome;
}

/**
 * Admits the request with `key` unless it was admitted already (/v1/batch admits requests whose
 * key is in the headers before reading the body). `key` undefined: the key of the headers.
 */
export async function admitOnce(request: FastifyRequest, deps: IngestRouteDeps, key: string | undefined): Promise<void> {
  if (!request.apiKey) await admitIngest(request, deps, key);
}

/** A non-empty string field of a body, if there is one. */
export function stringField(body: unknown, field: string): string | undefined {
  const value = (body as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
