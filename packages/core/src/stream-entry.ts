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
  return { ...head, propertiesJson: JSON.stringify(properties), contextJson: context === null ? null : JSON.stringify(context) };
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

/** An entry's version, data and number of events, checked for what every version needs. */
function entryParts(fields: readonly string[]): { version: string; data: string; events: number } {
  let version: string | undefined;
  let data: string | undefined;
  let count: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    if (name === 'v') version = fields[i + 1];
    else if (name === 'data') data = fields[i + 1];
    else if (name === 'n') count = fields[i + 1];
  }
  if (version === undefined || !READABLE_STREAM_ENTRY_VERSIONS.includes(version))
    throw new Error(`${UNSUPPORTED_VERSION_ERROR} ${JSON.stringify(version)}`);
  if (data === undefined) throw new Error('stream entry has no data field');
  if (data.length > MAX_STREAM_ENTRY_BYTES)
    throw new Error(`stream entry data is ${data.length} characters; the limit is ${MAX_STREAM_ENTRY_BYTES}`);
  if (version !== '3') return { version, data, events: 1 };
  const events = Number(count);
  if (count === undefined || !Number.isInteger(events) || events < 1 || events > data.length)
    throw new Error(`stream entry has no valid event count (field n: ${JSON.stringify(count)})`);
  return { version, data, events };
}

/**
 * The number of events an entry says it holds (field `n` of version 3, else 1), unchecked: for
 * sizing reads and batches before the entry is decoded.
 */
export function entryEventCount(fields: readonly string[]): number {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'n') continue;
    const events = Number(fields[i + 1]);
    return Number.isInteger(events) && events > 1 ? events : 1;
  }
  return 1;
}

/**
 * Where the lines of an entry's data end: `[end of line 1, end of line 2, …]` (the last is the
 * data's length), `3 × events` of them for versions 2 and 3.
 */
function lineEnds(data: string, events: number): number[] {
  const lines = 3 * events;
  const ends: number[] = [];
  let at = data.indexOf('\n');
  while (at >= 0 && ends.length < lines) {
    ends.push(at);
    at = data.indexOf('\n', at + 1);
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
export function entryEvents(fields: readonly string[]): string[] {
  const { version, data, events } = entryParts(fields);
  return eventData(version, data, events);
}

/**
 * The fields of a single-event entry holding event `index` of an entry, for a dead letter that
 * concerns that event alone: the entry itself when it holds one event of version 1 or 2, else
 * `v 2 data <the event's three lines>`, which replays as it is. Throws as the decoders do when the
 * entry cannot be split into its events.
 */
export function entryEventFields(fields: readonly string[], index: number): string[] {
  const { version, data, events } = entryParts(fields);
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

/** One event of version 2 or 3 as the worker writes it, from its three lines in `data`. */
function decodeRow(data: string, start: number, headEnd: number, propertiesEnd: number, end: number): StreamRow {
  const propertiesJson = data.slice(headEnd + 1, propertiesEnd);
  const contextJson = data.slice(propertiesEnd + 1, end);
  if (!isObjectText(propertiesJson)) throw new Error('stream entry properties are not a JSON object');
  if (contextJson !== 'null' && !isObjectText(contextJson)) throw new Error('stream entry context is neither a JSON object nor null');
  const row = decodeHead(data.slice(start, headEnd)) as StreamRow;
  row.propertiesJson = propertiesJson;
  row.contextJson = contextJson === 'null' ? null : contextJson;
  return row;
}

/**
 * Decodes every event of a stream entry (any version) into the whole event, properties and
 * context parsed and checked against the schema; throws (ZodError, SyntaxError or Error) on bad
 * data in any of them. For tools and tests; the worker reads entries with {@link decodeStreamRows}.
 */
export function decodeStreamEvents(fields: readonly string[]): StreamEvent[] {
  const { version, data, events } = entryParts(fields);
  if (version === '1') return [decodeEvent(JSON.parse(data))];
  return eventData(version, data, events).map((event) => {
    const [head, properties, context] = event.split('\n') as [string, string, string];
    return decodeEvent({ ...(JSON.parse(head) as object), properties: JSON.parse(properties), context: JSON.parse(context) });
  });
}

/**
 * Decodes the events of a stream entry as the worker writes them. Throws (Error) when the entry
 * itself is unusable: an unknown version, no data, data over the limit, or data that does not
 * split into the events it says it holds. Otherwise returns one item per event, in order: the
 * row, or the error (ZodError, SyntaxError or Error) that event alone failed with, so one bad
 * event does not take the others of its request with it.
 *
 * An event's head is parsed and checked against the schema, and its properties and context are
 * taken as text, checked to be objects (or `null` for the context): parsing them only to
 * serialize them again was most of the worker's work per event. Their JSON syntax is checked by
 * PostgreSQL, which rejects the row (the event is then dead-lettered as `db_rejected`). A
 * version 1 entry is decoded whole and its parts serialized.
 */
export function decodeStreamRows(fields: readonly string[]): (StreamRow | Error)[] {
  const { version, data, events } = entryParts(fields);
  const rows: (StreamRow | Error)[] = [];
  if (version === '1') {
    try {
      rows.push(streamRowOf(decodeEvent(JSON.parse(data))));
    } catch (error) {
      rows.push(asError(error));
    }
    return rows;
  }
  const ends = lineEnds(data, events);
  for (let e = 0; e < events; e++) {
    const start = e === 0 ? 0 : ends[3 * e - 1]! + 1;
    try {
      rows.push(decodeRow(data, start, ends[3 * e]!, ends[3 * e + 1]!, ends[3 * e + 2]!));
    } catch (error) {
      rows.push(asError(error));
    }
  }
  return rows;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
