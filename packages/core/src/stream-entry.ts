import { z } from 'zod';
import { STREAM_ENTRY_VERSION } from './stream-keys.ts';
import { streamEventFastPath } from './stream-event-fast-path.ts';

/**
 * The event as it travels through Redis Streams (field `data` of each entry, with `v` holding
 * {@link STREAM_ENTRY_VERSION}). The API has already validated and normalized it: ids assigned,
 * skew corrected, times as ISO strings in UTC.
 */
export const StreamEvent = z.object({
  project_id: z.uuid(),
  event_id: z.string().min(1).max(128),
  event: z.string().min(1).max(200),
  distinct_id: z.string().min(1).max(200),
  /** Event time after skew correction and clamping. */
  timestamp: z.iso.datetime({ offset: true }),
  /** The timestamp exactly as the client sent it, when it sent one. */
  client_timestamp: z.string().max(100).nullable(),
  sent_at: z.iso.datetime({ offset: true }).nullable(),
  received_at: z.iso.datetime({ offset: true }),
  session_id: z.string().max(200).nullable(),
  properties: z.record(z.string(), z.unknown()),
  context: z.record(z.string(), z.unknown()).nullable(),
  /** True when the API recognised the sender as a bot; absent (entries of older APIs, or not a bot) means false. */
  is_bot: z.boolean().optional(),
});
export type StreamEvent = z.infer<typeof StreamEvent>;

/** The event without properties and context: the first line of a version 2 entry's `data`. */
export const StreamEventHead = StreamEvent.omit({ properties: true, context: true });
export type StreamEventHead = z.infer<typeof StreamEventHead>;

/**
 * An event as the worker writes it: the head decoded and checked, properties and context kept as
 * the JSON text the API wrote (objects; PostgreSQL's jsonb input checks their syntax).
 */
export interface StreamRow extends StreamEventHead {
  propertiesJson: string;
  /** null when the event has no context. */
  contextJson: string | null;
}

/** The common entry, accepted without the schema's copy (see stream-event-fast-path.ts). */
export const parseStreamEventFast = streamEventFastPath(StreamEvent);
/** The same for the head of a version 2 entry. */
export const parseStreamEventHeadFast = streamEventFastPath(StreamEventHead);

/** Flat field list for XADD: `v <version> data <data>` (`data` from {@link streamEntryData}). */
export function encodeStreamEntry(data: string): [string, string, string, string] {
  return ['v', String(STREAM_ENTRY_VERSION), 'data', data];
}

/**
 * The `data` of a version 2 entry from the JSON of its parts. JSON.stringify never writes a raw
 * line break, so the lines cannot be confused with the JSON inside them.
 */
export function streamEntryData(headJson: string, propertiesJson: string, contextJson: string): string {
  return `${headJson}\n${propertiesJson}\n${contextJson}`;
}

/** The `data` of an event's entry (fixtures, benchmarks and tools; the API splices its own JSON). */
export function streamEntryDataOf(event: StreamEvent): string {
  const { properties, context, ...head } = event;
  return streamEntryData(JSON.stringify(head), JSON.stringify(properties), JSON.stringify(context));
}

/** An event as the worker writes it, from the whole event (fixtures and benchmarks). */
export function streamRowOf(event: StreamEvent): StreamRow {
  const { properties, context, ...head } = event;
  return { ...head, propertiesJson: JSON.stringify(properties), contextJson: context === null ? null : JSON.stringify(context) };
}

/**
 * Largest `data` field accepted: the API never writes more than 32 KiB of properties, 32 KiB of
 * context plus the server's enrichment of it (a user agent of at most 1,000 characters, browser,
 * OS, device, geo) and the bounded fields, so anything bigger did not come from it.
 */
export const MAX_STREAM_ENTRY_BYTES = 80 * 1024;

/** Entry versions this code reads (field `v`). */
const READABLE_STREAM_ENTRY_VERSIONS: readonly string[] = ['1', '2'];

/**
 * How the error of an entry of an unknown version begins: every release has written it so, so a
 * dead letter that an older worker refused only for its version can be told from the others.
 */
export const UNSUPPORTED_VERSION_ERROR = 'unsupported stream entry version';

/** The version and data of an entry's fields, checked for what every version needs. */
function entryParts(fields: readonly string[]): { version: string; data: string } {
  let version: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'v') version = fields[i + 1];
    else if (fields[i] === 'data') data = fields[i + 1];
  }
  if (version === undefined || !READABLE_STREAM_ENTRY_VERSIONS.includes(version))
    throw new Error(`${UNSUPPORTED_VERSION_ERROR} ${JSON.stringify(version)}`);
  if (data === undefined) throw new Error('stream entry has no data field');
  if (data.length > MAX_STREAM_ENTRY_BYTES)
    throw new Error(`stream entry data is ${data.length} characters; the limit is ${MAX_STREAM_ENTRY_BYTES}`);
  return { version, data };
}

/**
 * The JSON object of an entry's data that names its event, neither parsed nor checked: the first
 * line in version 2, the whole data in version 1 (or an unknown version).
 */
export function entryEventJson(version: string | undefined, data: string): string {
  if (version !== '2') return data;
  const end = data.indexOf('\n');
  return end < 0 ? data : data.slice(0, end);
}

/** The three lines of a version 2 entry's data. */
function dataLines(data: string): [head: string, properties: string, context: string] {
  const first = data.indexOf('\n');
  const second = first < 0 ? -1 : data.indexOf('\n', first + 1);
  if (second < 0 || data.indexOf('\n', second + 1) >= 0)
    throw new Error('stream entry data must be three lines: the event, its properties, its context');
  return [data.slice(0, first), data.slice(first + 1, second), data.slice(second + 1)];
}

/** JSON text that is an object if it is JSON at all: it starts with `{` and ends with `}`. */
function isObjectText(text: string): boolean {
  return text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d;
}

function decodeHead(json: string): StreamEventHead {
  const value: unknown = JSON.parse(json);
  return parseStreamEventHeadFast(value) ?? StreamEventHead.parse(value);
}

function decodeEvent(value: unknown): StreamEvent {
  return parseStreamEventFast(value) ?? StreamEvent.parse(value);
}

/**
 * Decodes one stream entry (either version) into the whole event, properties and context parsed
 * and checked against the schema; throws (ZodError, SyntaxError or Error) on bad data. For tools
 * and tests; the worker reads entries with {@link decodeStreamRow}.
 */
export function decodeStreamEntry(fields: readonly string[]): StreamEvent {
  const { version, data } = entryParts(fields);
  if (version === '1') return decodeEvent(JSON.parse(data));
  const [head, properties, context] = dataLines(data);
  return decodeEvent({ ...(JSON.parse(head) as object), properties: JSON.parse(properties), context: JSON.parse(context) });
}

/**
 * Decodes one stream entry as the worker writes it; throws (ZodError, SyntaxError or Error) on
 * bad data. A version 2 entry's head is parsed and checked against the schema, and its properties
 * and context are taken as text, checked to be objects (or `null` for the context): parsing them
 * only to serialize them again was most of the worker's work per event. Their JSON syntax is
 * checked by PostgreSQL, which rejects the row (the entry is then dead-lettered as
 * `db_rejected`). A version 1 entry is decoded whole and its parts serialized.
 */
export function decodeStreamRow(fields: readonly string[]): StreamRow {
  const { version, data } = entryParts(fields);
  if (version === '1') return streamRowOf(decodeEvent(JSON.parse(data)));
  const [headJson, propertiesJson, contextJson] = dataLines(data);
  if (!isObjectText(propertiesJson)) throw new Error('stream entry properties are not a JSON object');
  if (contextJson !== 'null' && !isObjectText(contextJson)) throw new Error('stream entry context is neither a JSON object nor null');
  const row = decodeHead(headJson) as StreamRow;
  row.propertiesJson = propertiesJson;
  row.contextJson = contextJson === 'null' ? null : contextJson;
  return row;
}
