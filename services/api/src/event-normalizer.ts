import { checkJsonObject, EVENT_LIMITS, type FieldError, IngestEvent, shardFor, type StreamEvent, toFieldErrors, uuidv7 } from '@eap/core';
import type { PreparedEntry } from './stream-producer.ts';

const MIN_EVENT_TIME = Date.UTC(1970, 0, 1);

export interface RequestContext {
  projectId: string;
  /** Server clock when the request arrived (ms). */
  receivedAt: number;
  /** The same as an ISO string, computed once per request. */
  receivedAtIso: string;
  /** Client clock when the request was sent (ms), from `sent_at`. */
  sentAt: number | undefined;
  sentAtRaw: string | undefined;
  shards: number;
  /** Oldest accepted event time (ms): receive time minus the accepted age. */
  oldestAccepted: number;
  /** The setting that sets `oldestAccepted`, named in the error. */
  ageLimit: string;
}

export type NormalizeResult = { ok: true; eventId: string; entry: PreparedEntry } | { ok: false; eventId?: string; errors: FieldError[] };

/**
 * Event time after clock-skew correction: with `sent_at`, the client's clock offset
 * (sent_at − received_at) is removed from its timestamp; without a timestamp the event happened
 * at receive time. Times more than 23 h ahead of receive time are clamped to receive time.
 */
export function correctEventTime(timestamp: number | undefined, receivedAt: number, sentAt: number | undefined): number {
  let t = timestamp === undefined ? receivedAt : sentAt === undefined ? timestamp : receivedAt - (sentAt - timestamp);
  if (t > receivedAt + EVENT_LIMITS.maxFutureMs) t = receivedAt;
  return t;
}

/** Validates one raw event and turns it into its stream entry, or says precisely what is wrong. */
export function normalizeEvent(raw: unknown, ctx: RequestContext): NormalizeResult {
  const parsed = IngestEvent.safeParse(raw);
  const rawEventId =
    typeof (raw as { event_id?: unknown } | null)?.event_id === 'string' ? (raw as { event_id: string }).event_id : undefined;
  const errors: FieldError[] = parsed.success ? [] : toFieldErrors(parsed.error);
  // Properties are checked on the raw input: zod's record parser drops "__proto__" keys, and the
  // client must hear about them rather than lose them silently.
  const rawProperties = (raw as { properties?: unknown } | null)?.properties;
  let propertiesJson = '{}';
  if (rawProperties !== undefined && rawProperties !== null && typeof rawProperties === 'object' && !Array.isArray(rawProperties)) {
    const checked = checkJsonObject(
      rawProperties as Record<string, unknown>,
      {
        maxBytes: EVENT_LIMITS.propertiesMaxBytes,
        maxDepth: EVENT_LIMITS.propertiesMaxDepth,
      },
      'properties',
    );
    if (checked.ok) propertiesJson = checked.json;
    else errors.push(...checked.errors);
  }
  if (!parsed.success || errors.length > 0) {
    return { ok: false, ...(rawEventId === undefined ? {} : { eventId: rawEventId }), errors };
  }
  const event = parsed.data;
  const clientTime = event.timestamp === undefined ? undefined : Date.parse(event.timestamp);
  const time = correctEventTime(clientTime, ctx.receivedAt, ctx.sentAt);
  if (!(time >= MIN_EVENT_TIME)) {
    return {
      ok: false,
      ...(rawEventId === undefined ? {} : { eventId: rawEventId }),
      errors: [
        {
          path: 'timestamp',
          message: `is before 1970-01-01${ctx.sentAt === undefined ? '' : ' after clock-skew correction with sent_at'}`,
        },
      ],
    };
  }
  if (time < ctx.oldestAccepted) {
    return {
      ok: false,
      ...(rawEventId === undefined ? {} : { eventId: rawEventId }),
      errors: [
        {
          path: 'timestamp',
          message: `is older than ${ctx.ageLimit}${ctx.sentAt === undefined ? '' : ' after clock-skew correction with sent_at'}: events before ${new Date(ctx.oldestAccepted).toISOString()} are not accepted`,
        },
      ],
    };
  }
  const eventId = event.event_id ?? uuidv7(ctx.receivedAt);
  const streamEvent: Omit<StreamEvent, 'properties'> = {
    project_id: ctx.projectId,
    event_id: eventId,
    event: event.event,
    distinct_id: event.distinct_id,
    timestamp: new Date(time).toISOString(),
    client_timestamp: event.timestamp ?? null,
    sent_at: ctx.sentAtRaw ?? null,
    received_at: ctx.receivedAtIso,
    session_id: event.session_id ?? null,
    context: event.context ?? null,
  };
  // Splice the already serialized properties in rather than serializing them a second time.
  const head = JSON.stringify(streamEvent);
  const json = `${head.slice(0, -1)},"properties":${propertiesJson}}`;
  return { ok: true, eventId, entry: { shard: shardFor(ctx.projectId, event.distinct_id, ctx.shards), json } };
}
