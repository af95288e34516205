import { compact, idOf, isoFromMs, isPlainObject, type MappedMessage, type RawEvent, unmappable } from './mapped-message.ts';

/** What a PostHog capture body holds, whatever its shape. */
export interface PostHogEnvelope {
  messages: unknown[];
  /** The project key: `api_key` or `token` of the body, else of the first event. */
  key: string | undefined;
  /** `sent_at` as sent (ISO, or milliseconds). */
  sentAt: unknown;
}

function keyOf(object: unknown): string | undefined {
  if (!isPlainObject(object)) return undefined;
  const properties = isPlainObject(object.properties) ? object.properties : {};
  for (const candidate of [object.api_key, object.token, object.$token, properties.token, properties.api_key]) {
    if (typeof candidate === 'string' && candidate.length > 0) return candidate;
  }
  return undefined;
}

/**
 * Reads the body shapes PostHog clients send: `{api_key, batch: [...], sent_at}` (the SDKs),
 * an array of events (older posthog-js), or one event with its key (`/capture` of other SDKs).
 */
export function readPostHogEnvelope(body: unknown): PostHogEnvelope {
  if (Array.isArray(body)) return { messages: body, key: keyOf(body[0]), sentAt: undefined };
  if (!isPlainObject(body)) return { messages: [body], key: undefined, sentAt: undefined };
  if (Array.isArray(body.batch)) {
    return { messages: body.batch, key: keyOf(body) ?? keyOf(body.batch[0]), sentAt: body.sent_at };
  }
  return { messages: [body], key: keyOf(body), sentAt: body.sent_at };
}

/** Keys of a capture event's properties that carry the request, not the event. */
const NOT_PROPERTIES = ['token', 'api_key', 'distinct_id'];
const PERSON_OPERATIONS = ['$set', '$set_once', '$unset'] as const;

function timeOf(
  message: Record<string, unknown>,
  properties: Record<string, unknown>,
  sentAtMs: number | undefined,
  receivedAt: number,
): unknown {
  const { timestamp, offset } = message;
  if (timestamp !== undefined && timestamp !== null) return typeof timestamp === 'number' ? (isoFromMs(timestamp) ?? timestamp) : timestamp;
  // `offset`: milliseconds before the send (PostHog's convention); on the client's clock when it said when it sent.
  if (typeof offset === 'number' && Number.isFinite(offset)) return isoFromMs((sentAtMs ?? receivedAt) - offset);
  const seconds = properties.$time;
  if (typeof seconds === 'number') return isoFromMs(seconds * 1000);
  return undefined;
}

/**
 * One PostHog event (`capture` body item) as an EAP raw event: name, distinct_id (top level or
 * in properties), `uuid` (or `$insert_id`) as event_id, time from `timestamp` (ISO), `offset` (ms
 * before `sent_at`) or `$time` (seconds); `$set`/`$set_once`/`$unset` at the top level join the
 * properties; `$session_id` becomes session_id and `$lib`/`$lib_version` the context's library.
 * `engage` reads an `/engage` (people) update: `{$distinct_id, $set, $set_once, $unset}` becomes
 * a `$set` event.
 */
export function mapPostHogEvent(
  message: unknown,
  options: { sentAtMs: number | undefined; receivedAt: number; engage?: boolean },
): MappedMessage {
  if (!isPlainObject(message)) return unmappable([{ path: '', message: 'must be a JSON object (one PostHog event)' }]);
  const given = message.properties;
  if (given !== undefined && given !== null && !isPlainObject(given)) {
    return unmappable([{ path: 'properties', message: 'must be a JSON object' }], message.uuid);
  }
  const source = isPlainObject(given) ? given : {};
  const distinctId = idOf(message.distinct_id) ?? idOf(source.distinct_id) ?? idOf(message.$distinct_id);
  const eventId = message.uuid ?? (typeof source.$insert_id === 'string' ? source.$insert_id : undefined);
  if (distinctId === undefined) {
    return unmappable([{ path: 'distinct_id', message: 'is required (a non-empty string), at the top level or in properties' }], eventId);
  }
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) if (!NOT_PROPERTIES.includes(key)) properties[key] = value;
  for (const operation of PERSON_OPERATIONS) {
    if (message[operation] !== undefined && properties[operation] === undefined) properties[operation] = message[operation];
  }
  const library = typeof source.$lib === 'string' && source.$lib.length > 0 ? source.$lib : undefined;
  const event: RawEvent = compact({
    event: options.engage ? '$set' : message.event,
    distinct_id: distinctId,
    event_id: typeof eventId === 'number' ? String(eventId) : eventId,
    timestamp: timeOf(message, source, options.sentAtMs, options.receivedAt),
    session_id: typeof source.$session_id === 'string' && source.$session_id.length > 0 ? source.$session_id : undefined,
    properties,
    context: library
      ? {
          library: compact({
            name: library,
            version: typeof source.$lib_version === 'string' && source.$lib_version ? source.$lib_version : undefined,
          }),
        }
      : undefined,
  });
  return { ok: true, event };
}
