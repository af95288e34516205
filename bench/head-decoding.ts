// What the worker pays per event to read an event's head (ids, names, times) from a stream
// entry, three ways over the same events of the benchmark's model, in alternating passes, in one
// process (no Redis, no PostgreSQL): CPU ms per 1,000 events, medians, and each way's ratio to
// `json_parse` in the same pass (the host's speed drifts between passes; the ratio moves less).
// - `json_parse`: as shipped. The head's line becomes a string, JSON.parse makes the object, the
//   schema's shortcut checks it (`parseStreamEventHeadFast`).
// - `json_byte_scan`: the same line read byte by byte in JavaScript, for the exact layout the API
//   writes (no string but the values', no object), with the same checks of lengths and formats.
// - `copy_line_fields`: the head as the first columns of a COPY text line, the format a stream
//   entry would need for the worker to pass the API's text to PostgreSQL as it is; only the five
//   values the worker uses are read (project, id, name, time, receive time) and checked.
// And `head_columns`, the head's COPY columns written from decoded rows into a chunk as the worker
// writes them (`headColumns`): the work a COPY-line entry would spare the worker on top.
//
//   node bench/head-decoding.ts [events=50000] [passes=9]
import { encodeStreamEntryOf, parseStreamEventHeadFast, StreamEventHead, streamEntryDataOf, streamRowOf } from '@eap/core';
import { copyLine } from '@eap/worker';
import { headColumns } from '../services/worker/src/event-writer.ts';
import { formatCheck } from '../packages/core/src/schema-fast-path.ts';
import { streamEvents } from './support/bench-data.ts';
import { median } from './support/statistics.ts';

const total = Number(process.argv[2] ?? 50_000);
const passes = Number(process.argv[3] ?? 9);
/** Events per entry: a request of 100 over the four default shards. */
const PER_ENTRY = 25;
const LINE_FEED = 0x0a;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const events = streamEvents(total, '0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b', 7);
/** A place in a Buffer: [bytes, start, end). */
type Span = [Buffer, number, number];

/** The first line of every `every`-th line of each Buffer. */
function lineSpans(datas: Buffer[], every: number): Span[] {
  const spans: Span[] = [];
  for (const data of datas) {
    let start = 0;
    for (let line = 0; start <= data.length; line++) {
      const end = data.indexOf(LINE_FEED, start);
      const stop = end < 0 ? data.length : end;
      if (line % every === 0 && stop > start) spans.push([data, start, stop]);
      start = stop + 1;
    }
  }
  return spans;
}

const entryDatas: Buffer[] = [];
const copyTexts: Buffer[] = [];
for (let i = 0; i < total; i += PER_ENTRY) {
  const part = events.slice(i, i + PER_ENTRY);
  entryDatas.push(Buffer.from(encodeStreamEntryOf(part.map(streamEntryDataOf))[5]!));
  copyTexts.push(Buffer.from(part.map((e) => copyLine(streamRowOf(e))).join('')));
}
const heads = lineSpans(entryDatas, 3);
const copyLines = lineSpans(copyTexts, 1);
if (heads.length !== total || copyLines.length !== total) throw new Error('the events did not split into their lines');

const { shape } = StreamEventHead;
const uuid = formatCheck(shape.project_id);
const time = formatCheck(shape.timestamp);
const maxLength = (schema: unknown) => (schema as { maxLength: number }).maxLength;
/**
 * The head's keys in the order the API writes them, each with the longest value its text schema
 * takes; the formatted ones (the project id and the times) are bounded by their format checks.
 */
const UNBOUNDED = Number.POSITIVE_INFINITY;
const KEYS: [name: string, max: number][] = [
  ['project_id', UNBOUNDED],
  ['event_id', maxLength(shape.event_id)],
  ['event', maxLength(shape.event)],
  ['distinct_id', maxLength(shape.distinct_id)],
  ['timestamp', UNBOUNDED],
  ['client_timestamp', maxLength(shape.client_timestamp.unwrap())],
  ['sent_at', UNBOUNDED],
  ['received_at', UNBOUNDED],
  ['session_id', maxLength(shape.session_id.unwrap())],
];
const KEY_BYTES = KEYS.map(([name], i) => Buffer.from(`${i === 0 ? '{' : ','}"${name}":`));

/** The head's values read byte by byte (ASCII strings without escapes, or null), or undefined. */
function scanHead(data: Buffer, start: number, end: number): (string | null)[] | undefined {
  const values: (string | null)[] = [];
  let at = start;
  for (let k = 0; k < KEYS.length; k++) {
    const key = KEY_BYTES[k]!;
    for (let i = 0; i < key.length; i++) if (data[at + i] !== key[i]) return undefined;
    at += key.length;
    if (data[at] === QUOTE) {
      let close = at + 1;
      for (; close < end; close++) {
        const byte = data[close]!;
        if (byte === QUOTE) break;
        if (byte === BACKSLASH || byte < 0x20 || byte >= 0x80) return undefined;
      }
      if (close >= end || close - at - 1 > KEYS[k]![1] || close === at + 1) return undefined;
      values.push(data.toString('latin1', at + 1, close));
      at = close + 1;
    } else if (data[at] === 0x6e && data[at + 1] === 0x75 && data[at + 2] === 0x6c && data[at + 3] === 0x6c) {
      values.push(null);
      at += 4;
    } else return undefined;
  }
  if (at !== end - 1 || data[at] !== 0x7d) return undefined;
  const [project, , , , timestamp, , sentAt, receivedAt] = values;
  return uuid(project) && time(timestamp) && time(receivedAt) && (sentAt === null || time(sentAt)) ? values : undefined;
}

/** The five values the worker uses, from the first eight columns of a COPY line. */
function copyLineFields(data: Buffer, start: number, end: number): string[] | undefined {
  const tabs: number[] = [];
  let at = start - 1;
  while (tabs.length < 8) {
    at = data.indexOf(TAB, at + 1);
    if (at < 0 || at >= end) return undefined;
    tabs.push(at);
  }
  const column = (i: number) => data.toString('latin1', i === 0 ? start : tabs[i - 1]! + 1, tabs[i]);
  const fields = [column(0), column(1), column(2), column(4), column(7)];
  return uuid(fields[0]) && time(fields[3]) && time(fields[4]) ? fields : undefined;
}

const rows = events.map(streamRowOf);
const chunk = Buffer.allocUnsafe(1024 * 1024);
const variants: Record<string, () => number> = {
  json_parse() {
    let ok = 0;
    for (const [data, start, end] of heads) if (parseStreamEventHeadFast(JSON.parse(data.toString('utf8', start, end)))) ok++;
    return ok;
  },
  json_byte_scan() {
    let ok = 0;
    for (const [data, start, end] of heads) if (scanHead(data, start, end)) ok++;
    return ok;
  },
  copy_line_fields() {
    let ok = 0;
    for (const [data, start, end] of copyLines) if (copyLineFields(data, start, end)) ok++;
    return ok;
  },
  head_columns() {
    let used = 0;
    for (const e of rows) {
      if (used > chunk.length - 4096) used = 0;
      used += chunk.write(headColumns(e), used);
    }
    return rows.length;
  },
};

const ms: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let pass = -2; pass < passes; pass++) {
  const names = Object.keys(variants);
  for (const name of pass % 2 === 0 ? names : names.reverse()) {
    const before = process.cpuUsage();
    const ok = variants[name]!();
    const used = process.cpuUsage(before);
    if (ok !== total) throw new Error(`${name} accepted ${ok} of ${total} events`);
    if (pass >= 0) ms[name]!.push((used.user + used.system) / 1000 / (total / 1000));
  }
}
const range = (values: number[], digits: number) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
console.log(`${total} events, ${passes} passes: CPU ms per 1,000 events, and the ratio to json_parse in the same pass (median, range)`);
for (const [name, values] of Object.entries(ms)) {
  const ratios = values.map((value, pass) => value / ms.json_parse![pass]!);
  console.log(`  ${name.padEnd(18)} ${range(values, 3).padEnd(24)} ${range(ratios, 2)}`);
}
