import type { FieldError } from '@eap/core';
import { compact, idOf, isoFromMs, isPlainObject, type MappedMessage, REQUIRED, unmappable } from './mapped-message.ts';

/** Amplitude's per-event device and location fields, kept in the event's context under their names. */
const CONTEXT_FIELDS = [
  'platform',
  'os_name',
  'os_version',
  'device_brand',
  'device_manufacturer',
  'device_model',
  'carrier',
  'country',
  'region',
  'city',
  'dma',
  'language',
  'app_version',
  'version_name',
  'location_lat',
  'location_lng',
] as const;

/** Amplitude's revenue fields, kept in the event's properties under their names. */
const REVENUE_FIELDS = ['price', 'quantity', 'revenue', 'productId', 'revenueType'] as const;

/** User property operations EAP applies; others (`$add`, `$append`, ...) are stored in properties, not applied. */
interface PersonOperations {
  $set?: Record<string, unknown>;
  $set_once?: Record<string, unknown>;
  $unset?: string[];
  other: Record<string, unknown>;
}

/**
 * Amplitude `user_properties`: `$set`, `$setOnce` and `$unset` (an object whose keys are removed,
 * or an array of keys) map to `$set`, `$set_once`, `$unset`; keys without `$` are a `$set`.
 */
export function amplitudePersonOperations(userProperties: Record<string, unknown>): PersonOperations {
  const out: PersonOperations = { other: {} };
  const set: Record<string, unknown> = {};
  let hasSet = false;
  for (const [key, value] of Object.entries(userProperties)) {
    if (key === '$set' && isPlainObject(value)) {
      Object.assign(set, value);
      hasSet = true;
    } else if (key === '$setOnce' && isPlainObject(value)) {
      out.$set_once = { ...out.$set_once, ...value };
    } else if (key === '$unset') {
      const keys = Array.isArray(value) ? value.filter((k) => typeof k === 'string') : isPlainObject(value) ? Object.keys(value) : [];
      out.$unset = [...(out.$unset ?? []), ...keys];
    } else if (key.startsWith('$')) {
      out.other[key] = value;
    } else {
      set[key] = value;
      hasSet = true;
    }
  }
  if (hasSet) out.$set = set;
  return out;
}

/** `library: "amplitude-node/1.5.73"` as EAP's `{name, version}`. */
function libraryOf(value: unknown): { name: string; version?: string } | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const slash = value.lastIndexOf('/');
  return slash > 0 && slash < value.length - 1 ? { name: value.slice(0, slash), version: value.slice(slash + 1) } : { name: value };
}

/** `groups: {type: name}` of a `$groupidentify` as PostHog-style group fields. */
function groupFields(groups: unknown, groupProperties: unknown): Record<string, unknown> {
  const [entry] = isPlainObject(groups) ? Object.entries(groups) : [];
  if (!entry) return {};
  const key = Array.isArray(entry[1]) ? entry[1][0] : entry[1];
  const set = isPlainObject(groupProperties) ? (isPlainObject(groupProperties.$set) ? groupProperties.$set : groupProperties) : undefined;
  return compact({ $group_type: entry[0], $group_key: idOf(key), $group_set: set });
}

/**
 * One Amplitude HTTP V2 event as an EAP raw event: `event_type` → event, `user_id` (else
 * `device_id`) → distinct_id, with `device_id` as `$anon_distinct_id` when both differ,
 * `insert_id` → event_id, `time` (ms) → timestamp, `event_properties` → properties with the
 * person operations of `user_properties`, `session_id` (ms, -1 for none) → session_id, device and
 * location fields → context. Errors name Amplitude fields.
 */
export function mapAmplitudeEvent(message: unknown): MappedMessage {
  if (!isPlainObject(message)) return unmappable([{ path: 'event', message: 'must be a JSON object (one Amplitude event)' }]);
  const insertId = typeof message.insert_id === 'number' ? String(message.insert_id) : message.insert_id;
  const errors: FieldError[] = [];
  if (message.event_type === undefined || message.event_type === null || message.event_type === '') {
    errors.push({ path: 'event_type', message: REQUIRED });
  }
  const userId = idOf(message.user_id);
  const deviceId = idOf(message.device_id);
  if (userId === undefined && deviceId === undefined) errors.push({ path: 'user_id', message: `${REQUIRED} (or device_id)` });
  const time = message.time;
  if (time !== undefined && time !== null && (typeof time !== 'number' || isoFromMs(time) === undefined)) {
    errors.push({ path: 'time', message: 'must be milliseconds since the epoch (a number)' });
  }
  for (const field of ['event_properties', 'user_properties'] as const) {
    const value = message[field];
    if (value !== undefined && value !== null && !isPlainObject(value)) errors.push({ path: field, message: 'must be a JSON object' });
  }
  if (errors.length > 0) return unmappable(errors, insertId);

  const properties: Record<string, unknown> = isPlainObject(message.event_properties) ? { ...message.event_properties } : {};
  if (isPlainObject(message.user_properties)) {
    const { other, ...operations } = amplitudePersonOperations(message.user_properties);
    Object.assign(properties, compact(operations), other);
  }
  for (const field of REVENUE_FIELDS)
    if (message[field] !== undefined && properties[field] === undefined) properties[field] = message[field];
  if (message.event_type === '$groupidentify') Object.assign(properties, groupFields(message.groups, message.group_properties));
  else if (isPlainObject(message.groups)) properties.$groups = message.groups;
  if (userId !== undefined && deviceId !== undefined && userId !== deviceId) properties.$anon_distinct_id = deviceId;

  const context: Record<string, unknown> = {};
  for (const field of CONTEXT_FIELDS) if (message[field] !== undefined && message[field] !== null) context[field] = message[field];
  const library = libraryOf(message.library);
  if (library) context.library = library;
  if (typeof message.ip === 'string' && message.ip !== '$remote' && message.ip.length > 0) context.ip = message.ip;
  if (typeof message.user_agent === 'string' && message.user_agent.length > 0) context.user_agent = message.user_agent;

  const session = message.session_id;
  const sessionId =
    typeof session === 'number' && session > 0 ? String(session) : typeof session === 'string' && session ? session : undefined;
  return {
    ok: true,
    event: compact({
      event: message.event_type,
      distinct_id: (userId ?? deviceId)!,
      event_id: insertId,
      timestamp: typeof time === 'number' ? isoFromMs(time) : undefined,
      session_id: sessionId,
      properties,
      context: Object.keys(context).length > 0 ? context : undefined,
    }),
  };
}

/** EAP field paths of an ingest rejection, named as the Amplitude field they came from. */
export function amplitudeFieldOf(path: string): string {
  const [head = '', second = ''] = path.split('.');
  switch (head) {
    case 'event':
      return 'event_type';
    case 'distinct_id':
      return 'user_id';
    case 'event_id':
      return 'insert_id';
    case 'timestamp':
      return 'time';
    case 'session_id':
      return 'session_id';
    case 'properties':
      return ['$set', '$set_once', '$unset'].includes(second) ? 'user_properties' : 'event_properties';
    case 'context':
      return second === 'library' ? 'library' : second === 'ip' ? 'ip' : second || 'event';
    default:
      return head || 'event';
  }
}
