import {
  checkJsonObject,
  EVENT_LIMITS,
  type FieldError,
  IngestEvent,
  parseIngestEventFast,
  shardFor,
  type StreamEventHead,
  streamEntryData,
  toFieldErrors,
  uuidv7,
} from '@eap/core';
import type { PreparedEvent } from './stream-producer.ts';
import type { RequestEnrichment } from './enrichment/request-enrichment.ts';

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
  /** What the server adds to each event's context (user agent, geo, bot), computed once per request. */
  enrichment: RequestEnrichment;
}

export type NormalizeResult = { ok: true; eventId: string; entry: PreparedEvent } | { ok: false; eventId?: string; errors: FieldError[] };

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
  // The common valid event skips zod's object parse; anything else gets the schema's errors.
  const fast = parseIngestEventFast(raw);
  const parsed = fast === undefined ? IngestEvent.safeParse(raw) : ({ success: true, data: fast } as const);
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
  // The context too: its keys beyond ip, user_agent and library are free-form. An IP the project
  // does not store is left out (the schema checks its format), so the JSON checked is the one
  // stored, and the context is serialized once.
  const rawContext = (raw as { context?: unknown } | null)?.context;
  let rawContextJson: string | undefined;
  if (rawContext !== undefined && rawContext !== null && typeof rawContext === 'object' && !Array.isArray(rawContext)) {
    const checked = checkJsonObject(
      ctx.enrichment.storeIp ? (rawContext as Record<string, unknown>) : withoutIp(rawContext as Record<string, unknown>),
      { maxBytes: EVENT_LIMITS.contextMaxBytes, maxDepth: EVENT_LIMITS.contextMaxDepth },
      'context',
    );
    if (checked.ok) rawContextJson = checked.json;
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
  // The shortcut passes the client's context object on as is: its stored JSON is the one just checked.
  const ownJson = event.context === rawContext ? rawContextJson : undefined;
  const { json: contextJson, isBot } = storedContext(event.context, ctx.enrichment, ownJson);
  const head: StreamEventHead = {
    project_id: ctx.projectId,
    event_id: eventId,
    event: event.event,
    distinct_id: event.distinct_id,
    timestamp: isoTime(time, ctx, event.timestamp, clientTime),
    client_timestamp: event.timestamp ?? null,
    sent_at: ctx.sentAtRaw ?? null,
    received_at: ctx.receivedAtIso,
    session_id: event.session_id ?? null,
  };
  // is_bot is written only when true: absent means false, and most events are not bots'.
  if (isBot) head.is_bot = true;
  // The context and properties go in as the JSON already checked, not serialized again.
  const data = streamEntryData(JSON.stringify(head), propertiesJson, contextJson);
  return { ok: true, eventId, entry: { shard: shardFor(ctx.projectId, event.distinct_id, ctx.shards), data } };
}

/**
 * `time` as an ISO string, built only when no string at hand is it: the request's receive time,
 * or the client's own timestamp when it was taken as is and is already in the canonical form
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`, what `toISOString` writes; the schema checked it is a valid date).
 */
function isoTime(time: number, ctx: RequestContext, clientTimestamp: string | undefined, clientTime: number | undefined): string {
  if (time === ctx.receivedAt) return ctx.receivedAtIso;
  if (time === clientTime && isCanonicalIso(clientTimestamp!)) return clientTimestamp!;
  return new Date(time).toISOString();
}

/** Whether a valid ISO date-time is written as `toISOString` writes it (4-digit year, ms, Z). */
function isCanonicalIso(s: string): boolean {
  return s.length === 24 && s.charCodeAt(10) === 84 /* T */ && s.charCodeAt(19) === 46 /* . */ && s.charCodeAt(23) === 90 /* Z */;
}

/** A context without its `ip` (the same object when it has none). */
function withoutIp(context: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(context, 'ip')) return context;
  const { ip: _dropped, ...rest } = context;
  return rest;
}

/**
 * The context stored with an event: what the client sent, with the server's enrichment added.
 * Keys the client sent win (a mobile SDK knows its OS and device better than a user agent does);
 * an event that names its own ip or user agent is enriched from those instead of the request's;
 * without store_ip no IP is kept, whoever sent it. The added keys arrive serialized and are
 * spliced into the client's JSON, so an event costs one serialization of its own context:
 * `ownJson`, the JSON of `own` as stored (without an IP that is not stored) from its check, when
 * the caller has it.
 */
export function storedContext(
  own: IngestEvent['context'],
  enrichment: RequestEnrichment,
  ownJson?: string,
): { json: string; isBot: boolean } {
  // The common case costs nothing: the request's enrichment was serialized once.
  if (own === undefined) return { json: enrichment.contextJson ?? 'null', isBot: enrichment.isBot };
  const added = own.ip !== undefined || own.user_agent !== undefined ? enrichment.forEvent(own.ip, own.user_agent) : enrichment;
  const json = ownJson ?? JSON.stringify(enrichment.storeIp ? own : withoutIp(own));
  let extra = '';
  for (const f of added.fields) if (!Object.hasOwn(own, f.key) && !(f.key === 'ip' && !enrichment.storeIp)) extra += `,${f.json}`;
  if (extra === '') return { json, isBot: added.isBot };
  return { json: json === '{}' ? `{${extra.slice(1)}}` : `${json.slice(0, -1)}${extra}}`, isBot: added.isBot };
}
