import { z } from 'zod';
import { COPY_ESCAPES } from './copy-text.ts';
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
 * the UTF-8 bytes of the JSON the API wrote (objects; PostgreSQL's jsonb input checks their
 * syntax). `json` holds, from `jsonStart`, the properties, a line break at `contextStart - 1`,
 * and the context up to `jsonEnd` (`null` when the event has none): in the worker, the entry's own
 * data, shared by its events, so the bytes Redis sent go to PostgreSQL without being turned into
 * strings and back.
 */
export interface StreamRow extends StreamEventHead {
  json: Buffer;
  jsonStart: number;
  contextStart: number;
  jsonEnd: number;
  /** Whether the properties or context hold a backslash, tab or carriage return (COPY escapes them). */
  jsonEscapes: boolean;
}

/** The properties' JSON of a row, as text (tests, tools and benchmarks). */
export function rowPropertiesJson(row: StreamRow): string {
  return row.json.toString('utf8', row.jsonStart, row.contextStart - 1);
}

/** The context's JSON of a row, as text; null when the event has no context. */
export function rowContextJson(row: StreamRow): string | null {
  return rowHasContext(row) ? row.json.toString('utf8', row.contextStart, row.jsonEnd) : null;
}

/** Whether a row's context is an object rather than JSON `null`. */
export function rowHasContext(row: StreamRow): boolean {
  const { json, contextStart, jsonEnd } = row;
  return !(
    jsonEnd - contextStart === 4 &&
    json[contextStart] === 0x6e &&
    json[contextStart + 1] === 0x75 &&
    json[contextStart + 2] === 0x6c &&
    json[contextStart + 3] === 0x6c
  );
}

/** The common entry, accepted without the schema's copy (see stream-event-fast-path.ts). */
export const parseStreamEventFast = streamEventFastPath(StreamEvent);
/** The same for the head of a version 2 entry. */
export const parseStreamEventHeadFast = streamEventFastPath(StreamEventHead);

/**
 * Flat field list for XADD: `v <version> n <events> data <data>`, `data` holding `events` events
 * joined by line breaks, each from {@link streamEntryData}.
 */
export function encodeStreamEntry(data: string, events = 1): string[] {
  return ['v', String(STREAM_ENTRY_VERSION), 'n', String(events), 'data', data];
}

/** The `data` of an entry holding these events (each from {@link streamEntryData}), in order. */
export function joinEntryEvents(events: readonly string[]): string {
  return events.length === 1 ? events[0]! : events.join('\n');
}

/** The fields of an entry holding these events (each from {@link streamEntryData}), in order. */
export function encodeStreamEntryOf(events: readonly string[]): string[] {
  return encodeStreamEntry(joinEntryEvents(events), events.length);
}

/**
 * The lines of one event in an entry's `data` (version 2, and each event of version 3), from the
 * JSON of its parts. JSON.stringify never writes a raw line break, so the lines cannot be
 * confused with the JSON inside them.
 */
export function streamEntryData(headJson: string, propertiesJson: string, contextJson: string): string {
  return `${headJson}\n${propertiesJson}\n${contextJson}`;
}

/** The lines of an event (fixtures, benchmarks and tools; the API splices its own JSON). */
export function streamEntryDataOf(event: StreamEvent): string {
  const { properties, context, ...head } = event;
  return streamEntryData(JSON.stringify(head), JSON.stringify(properties), JSON.stringify(context));
}

/** An event as the worker writes it, from the whole event (fixtures and benchmarks). */
export function streamRowOf(event: StreamEvent): StreamRow {
  const { properties, context, ...head } = event;
  return rowOfJson(head, JSON.stringify(properties), JSON.stringify(context));
}

/** An event as the worker writes it, from its head and the JSON of its properties and context. */
function rowOfJson(head: StreamEventHead, propertiesJson: string, contextJson: string): StreamRow {
  const json = Buffer.from(`${propertiesJson}\n${contextJson}`);
  const contextStart = Buffer.byteLength(propertiesJson) + 1;
  return {
    ...head,
    json,
    jsonStart: 0,
    contextStart,
    jsonEnd: json.length,
    jsonEscapes: IN_LINE_COPY_ESCAPES.some((byte) => json.includes(byte)),
  };
}

/**
 * Largest `data` field accepted, in characters. The API never writes more than 32 KiB of
 * properties, 32 KiB of context plus the server's enrichment of it (a user agent of at most 1,000
 * characters, browser, OS, device, geo) and the bounded fields per event, and it puts events in
 * one entry only while their data stays within this, so anything bigger did not come from it.
 */
export const MAX_STREAM_ENTRY_BYTES = 80 * 1024;

/** Entry versions this code reads (field `v`). */
const READABLE_STREAM_ENTRY_VERSIONS: readonly string[] = ['1', '2', '3'];

/**
 * How the error of an entry of an unknown version begins: every release has written it so, so a
 * dead letter that an older worker refused only for its version can be told from the others.
 */
export const UNSUPPORTED_VERSION_ERROR = 'unsupported stream entry version';

/**
 * A field of a stream entry, as text or as the bytes Redis sent (the worker reads entries as
 * bytes: their data then reaches PostgreSQL without being turned into a string and back).
 */
export type EntryField = string | Buffer;

/** A field as text; names and the small values are ASCII. */
const fieldText = (field: EntryField): string => (typeof field === 'string' ? field : field.toString('latin1'));

/** Whether data holds more than MAX_STREAM_ENTRY_BYTES characters (bytes count up to three per character). */
function overLimit(data: EntryField): boolean {
  if (data.length <= MAX_STREAM_ENTRY_BYTES) return false;
  return typeof data === 'string' || data.length > 3 * MAX_STREAM_ENTRY_BYTES || data.toString('utf8').length > MAX_STREAM_ENTRY_BYTES;
}

/** An entry's version, data and number of events, checked for what every version needs. */
function entryParts<D extends EntryField>(fields: readonly D[]): { version: string; data: D; events: number } {
  let version: string | undefined;
  let data: D | undefined;
  let count: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fieldText(fields[i]!);
    if (name === 'v') version = fieldText(fields[i + 1]!);
    else if (name === 'data') data = fields[i + 1];
    else if (name === 'n') count = fieldText(fields[i + 1]!);
  }
  if (version === undefined || !READABLE_STREAM_ENTRY_VERSIONS.includes(version))
    throw new Error(`${UNSUPPORTED_VERSION_ERROR} ${JSON.stringify(version)}`);
  if (data === undefined) throw new Error('stream entry has no data field');
  if (overLimit(data)) throw new Error(`stream entry data is ${String(data).length} characters; the limit is ${MAX_STREAM_ENTRY_BYTES}`);
  if (version !== '3') return { version, data, events: 1 };
  const events = Number(count);
  if (count === undefined || !Number.isInteger(events) || events < 1 || events > data.length)
    throw new Error(`stream entry has no valid event count (field n: ${JSON.stringify(count)})`);
  return { version, data, events };
}

/** An entry's version, number of events and data as text (the tools' and dead letters' decoders). */
function entryText(fields: readonly EntryField[]): { version: string; data: string; events: number } {
  const { version, data, events } = entryParts(fields);
  return { version, data: String(data), events };
}

/**
 * The number of events an entry says it holds (field `n` of version 3, else 1), unchecked: for
 * sizing reads and batches before the entry is decoded.
 */
export function entryEventCount(fields: readonly EntryField[]): number {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fieldText(fields[i]!) !== 'n') continue;
    const events = Number(fieldText(fields[i + 1]!));
    return Number.isInteger(events) && events > 1 ? events : 1;
  }
  return 1;
}

const LINE_BREAK = 0x0a;

/**
 * Where the lines of an entry's data end: `[end of line 1, end of line 2, …]` (the last is the
 * data's length), `3 × events` of them for versions 2 and 3.
 */
function lineEnds(data: EntryField, events: number): number[] {
  const lines = 3 * events;
  const ends: number[] = [];
  const next = typeof data === 'string' ? (from: number) => data.indexOf('\n', from) : (from: number) => data.indexOf(LINE_BREAK, from);
  let at = next(0);
  while (at >= 0 && ends.length < lines) {
    ends.push(at);
    at = next(at + 1);
  }
  if (at >= 0 || ends.length !== lines - 1) {
    throw new Error(
      events === 1
        ? 'stream entry data must be three lines: the event, its properties, its context'
        : `stream entry data must be ${lines} lines: the event, its properties and its context for each of its ${events} events`,
    );
  }
  ends.push(data.length);
  return ends;
}

/** The data of each event of an entry: the whole data in version 1, three lines each in 2 and 3. */
function eventData(version: string, data: string, events: number): string[] {
  if (version === '1') return [data];
  const ends = lineEnds(data, events);
  const out: string[] = [];
  for (let e = 0; e < events; e++) out.push(data.slice(e === 0 ? 0 : ends[3 * e - 1]! + 1, ends[3 * e + 2]));
  return out;
}

/**
 * The data of each event of an entry, unparsed: the whole data of version 1, each event's three
 * lines of versions 2 and 3. Throws as the decoders do when the entry is unusable or does not
 * split into the events it says it holds.
 */
export function entryEvents(fields: readonly EntryField[]): string[] {
  const { version, data, events } = entryText(fields);
  return eventData(version, data, events);
}

/**
 * The fields of a single-event entry holding event `index` of an entry, for a dead letter that
 * concerns that event alone: the entry itself when it holds one event of version 1 or 2, else
 * `v 2 data <the event's three lines>`, which replays as it is. Throws as the decoders do when the
 * entry cannot be split into its events.
 */
export function entryEventFields(fields: readonly EntryField[], index: number): string[] {
  const { version, data, events } = entryText(fields);
  if (version !== '3') return ['v', version, 'data', data];
  const event = eventData(version, data, events)[index];
  if (event === undefined) throw new Error(`stream entry has no event ${index}`);
  return ['v', '2', 'data', event];
}

/**
 * The JSON object naming each event of an entry's data, neither parsed nor checked: every third
 * line from the first in versions 2 and 3, the whole data in version 1 (or an unknown version).
 * Lines are taken as they come, also from a data that does not split into whole events.
 */
export function entryEventJsons(version: string | undefined, data: string): string[] {
  if (version !== '2' && version !== '3') return [data];
  const heads: string[] = [];
  let start = 0;
  for (let line = 0; ; line++) {
    const end = data.indexOf('\n', start);
    if (line % 3 === 0) heads.push(data.slice(start, end < 0 ? data.length : end));
    if (end < 0) break;
    start = end + 1;
  }
  return heads;
}

/** JSON bytes that are an object if they are JSON at all: they start with `{` and end with `}`. */
function isObjectJson(json: Buffer, start: number, end: number): boolean {
  return end > start && json[start] === 0x7b && json[end - 1] === 0x7d;
}

function decodeHead(json: string): StreamEventHead {
  const value: unknown = JSON.parse(json);
  return parseStreamEventHeadFast(value) ?? StreamEventHead.parse(value);
}

function decodeEvent(value: unknown): StreamEvent {
  return parseStreamEventFast(value) ?? StreamEvent.parse(value);
}

/** The bytes COPY escapes that can be inside a line of an entry's data: all but the line break. */
const IN_LINE_COPY_ESCAPES = COPY_ESCAPES.map(([byte]) => byte).filter((byte) => byte !== LINE_BREAK);

/**
 * Where the next byte at or after a position is, for one byte value, in one buffer: searched
 * again only once the position has passed it, so finding whether each event of an entry needs
 * escaping scans the entry about once, whatever its number of events.
 */
function nextByteFinder(data: Buffer, byte: number): (from: number) => number {
  let found = -1;
  return (from) => {
    if (found !== Number.POSITIVE_INFINITY && found < from) {
      const at = data.indexOf(byte, from);
      found = at < 0 ? Number.POSITIVE_INFINITY : at;
    }
    return found;
  };
}

/** Whether any of `finders` finds its byte in `[from, end)` (a loop: no closure per event). */
function anyBefore(finders: readonly ((from: number) => number)[], from: number, end: number): boolean {
  for (const next of finders) if (next(from) < end) return true;
  return false;
}

/**
 * Decodes the events of a stream entry as the worker writes them. Throws (Error) when the entry
 * itself is unusable: an unknown version, no data, data over the limit, or data that does not
 * split into the events it says it holds. Otherwise returns one item per event, in order: the
 * row, or the error (ZodError, SyntaxError or Error) that event alone failed with, so one bad
 * event does not take the others of its request with it.
 *
 * An event's head is parsed and checked against the schema, and its properties and context are
 * kept as bytes of the entry's data, checked to be objects (or `null` for the context): parsing
 * them only to serialize them again was most of the worker's work per event. Their JSON syntax
 * (and their UTF-8) is checked by PostgreSQL, which rejects the row (the event is then
 * dead-lettered as `db_rejected`). A version 1 entry is decoded whole and its parts serialized.
 */
export function decodeStreamRows(fields: readonly EntryField[]): (StreamRow | Error)[] {
  const { version, data: given, events } = entryParts(fields);
  const rows: (StreamRow | Error)[] = [];
  if (version === '1') {
    try {
      rows.push(streamRowOf(decodeEvent(JSON.parse(String(given)))));
    } catch (error) {
      rows.push(asError(error));
    }
    return rows;
  }
  const data = typeof given === 'string' ? Buffer.from(given) : given;
  const ends = lineEnds(data, events);
  const escapeFinders = IN_LINE_COPY_ESCAPES.map((byte) => nextByteFinder(data, byte));
  for (let e = 0; e < events; e++) {
    const start = e === 0 ? 0 : ends[3 * e - 1]! + 1;
    const jsonStart = ends[3 * e]! + 1;
    const contextStart = ends[3 * e + 1]! + 1;
    const jsonEnd = ends[3 * e + 2]!;
    try {
      if (!isObjectJson(data, jsonStart, contextStart - 1)) throw new Error('stream entry properties are not a JSON object');
      const row = decodeHead(data.toString('utf8', start, jsonStart - 1)) as StreamRow;
      row.json = data;
      row.jsonStart = jsonStart;
      row.contextStart = contextStart;
      row.jsonEnd = jsonEnd;
      if (rowHasContext(row) && !isObjectJson(data, contextStart, jsonEnd))
        throw new Error('stream entry context is neither a JSON object nor null');
      row.jsonEscapes = anyBefore(escapeFinders, jsonStart, jsonEnd);
      rows.push(row);
    } catch (error) {
      rows.push(asError(error));
    }
  }
  return rows;
}

/**
 * Decodes every event of a stream entry (any version) into the whole event, properties and
 * context parsed and checked against the schema; throws (ZodError, SyntaxError or Error) on bad
 * data in any of them. For tools and tests; the worker reads entries with {@link decodeStreamRows}.
 */
export function decodeStreamEvents(fields: readonly EntryField[]): StreamEvent[] {
  const { version, data, events } = entryText(fields);
  if (version === '1') return [decodeEvent(JSON.parse(data))];
  return eventData(version, data, events).map((event) => {
    const [head, properties, context] = event.split('\n') as [string, string, string];
    return decodeEvent({ ...(JSON.parse(head) as object), properties: JSON.parse(properties), context: JSON.parse(context) });
  });
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
