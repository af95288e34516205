import { describe, expect, it } from 'vitest';
import {
  decodeStreamEvents,
  decodeStreamRows,
  encodeStreamEntry,
  encodeStreamEntryOf,
  entryEventCount,
  entryEventFields,
  entryEventJsons,
  entryEvents,
  MAX_STREAM_ENTRY_BYTES,
  rowContextJson,
  rowPropertiesJson,
  type StreamEvent,
  type StreamRow,
  streamEntryData,
  streamEntryDataOf,
  streamRowOf,
} from './stream-entry.ts';
import { entryProjectId } from './stream-keys.ts';

const event: StreamEvent = {
  project_id: '0195f0a0-0000-7000-8000-000000000001',
  event_id: 'e-1',
  event: 'purchase',
  distinct_id: 'user-1',
  timestamp: '2026-11-29T07:00:00.000Z',
  client_timestamp: '2026-11-29T07:00:00Z',
  sent_at: null,
  received_at: '2026-11-29T07:00:01.000Z',
  session_id: 's-1',
  properties: { price: 9.5, note: 'a\tb\nc', nested: { tags: ['x'] } },
  context: { library: { name: 'eap-js' } },
  is_bot: true,
};
const { properties, context, ...head } = event;
const headJson = JSON.stringify(head);
const v1 = (data: string) => ['v', '1', 'data', data];

/** A row with its JSON as text, for comparing rows whatever bytes hold their JSON. */
function rowView(row: StreamRow | Error | undefined) {
  if (!row || row instanceof Error) return row;
  const { json, jsonStart, contextStart, jsonEnd, ...rest } = row;
  return { ...rest, propertiesJson: rowPropertiesJson(row), contextJson: rowContextJson(row) };
}
/** The rows of an entry, as rowView shows them. */
const rowViews = (fields: (string | Buffer)[]) => decodeStreamRows(fields).map(rowView);

/** The only row of an entry, which must decode, as rowView shows it. */
function onlyRow(fields: (string | Buffer)[]) {
  const rows = decodeStreamRows(fields);
  expect(rows).toHaveLength(1);
  if (rows[0] instanceof Error) throw rows[0];
  return rowView(rows[0]);
}
/** The fields of an entry as the worker reads them from Redis: bytes. */
const asBytes = (fields: string[]) => fields.map((f) => Buffer.from(f));
const v2 = (data: string) => ['v', '2', 'data', data];
const second: StreamEvent = { ...event, event_id: 'e-2', distinct_id: 'user-2', properties: {}, context: null, is_bot: undefined };
delete second.is_bot;

describe('stream entries', () => {
  it('writes version 3: the number of events, and each event as its head, properties and context on three lines', () => {
    const one = streamEntryDataOf(event);
    expect(one.split('\n')).toEqual([headJson, JSON.stringify(properties), JSON.stringify(context)]);
    expect(encodeStreamEntry(one)).toEqual(['v', '3', 'n', '1', 'data', one]);
    const data = `${one}\n${streamEntryDataOf(second)}`;
    const fields = encodeStreamEntry(data, 2);
    expect(fields).toEqual(['v', '3', 'n', '2', 'data', data]);
    expect(encodeStreamEntryOf([one, streamEntryDataOf(second)])).toEqual(fields);
    expect(entryEvents(fields)).toEqual([one, streamEntryDataOf(second)]);
    expect(() => entryEvents(encodeStreamEntry(one, 2))).toThrow(/6 lines/);
    expect(entryEventCount(fields)).toBe(2);
    expect(entryProjectId(data)).toBe(event.project_id);
    expect(entryEventJsons('3', data)).toEqual([headJson, data.split('\n')[3]]);
    expect(decodeStreamEvents(fields)).toEqual([event, second]);
    expect(rowViews(fields)).toEqual([rowView(streamRowOf(event)), rowView(streamRowOf(second))]);
    // Read as bytes, as the worker reads it, the same.
    expect(rowViews(asBytes(fields))).toEqual(rowViews(fields));
    expect(entryEventCount(asBytes(fields))).toBe(2);
    expect(entryProjectId(Buffer.from(data))).toBe(event.project_id);
    expect(entryEventFields(asBytes(fields), 1)).toEqual(['v', '2', 'data', streamEntryDataOf(second)]);
    // A dead letter about one event carries it as a single-event entry of version 2.
    expect(entryEventFields(fields, 1)).toEqual(['v', '2', 'data', streamEntryDataOf(second)]);
    expect(() => entryEventFields(fields, 2)).toThrow(/no event 2/);
  });

  it('decodes version 2 as the whole event, and as the row the worker writes with the JSON kept as written', () => {
    const data = streamEntryData(headJson, '{ "price" : 9.5 }', 'null');
    expect(decodeStreamEvents(v2(data))).toEqual([{ ...head, properties: { price: 9.5 }, context: null }]);
    expect(onlyRow(v2(data))).toEqual({ ...head, propertiesJson: '{ "price" : 9.5 }', contextJson: null, jsonEscapes: false });
    expect(onlyRow(v2(streamEntryDataOf(event)))).toEqual(rowView(streamRowOf(event)));
    expect(entryEventCount(v2(data))).toBe(1);
    expect(entryEventJsons('2', data)).toEqual([headJson]);
    expect(entryEventFields(v2(data), 0)).toEqual(v2(data));
  });

  it('still decodes version 1, one JSON object, into the same event and row', () => {
    const data = JSON.stringify(event);
    expect(decodeStreamEvents(v1(data))).toEqual([event]);
    expect(onlyRow(v1(data))).toEqual(rowView(streamRowOf(event)));
    expect(entryEventJsons('1', data)).toEqual([data]);
    expect(entryProjectId(data)).toBe(event.project_id);
  });

  it('refuses what no API wrote, saying what is wrong', () => {
    const props = JSON.stringify(properties);
    const row = (data: string) => () => onlyRow(v2(data));
    expect(row(`${headJson}\n${props}`)).toThrow(/three lines/);
    expect(row(`${headJson}\n${props}\nnull\n`)).toThrow(/three lines/);
    expect(row(streamEntryData(headJson, '[1]', 'null'))).toThrow(/properties are not a JSON object/);
    expect(row(streamEntryData(headJson, '"x"', 'null'))).toThrow(/properties are not a JSON object/);
    expect(row(streamEntryData(headJson, props, '3'))).toThrow(/context is neither a JSON object nor null/);
    expect(row(streamEntryData('{"project_id":"nope"}', props, 'null'))).toThrow(/project_id/);
    expect(row(streamEntryData(`${headJson.slice(0, -1)}`, props, 'null'))).toThrow(SyntaxError);
    expect(() => decodeStreamRows(['v', '4', 'data', streamEntryDataOf(event)])).toThrow(/unsupported stream entry version "4"/);
    expect(() => decodeStreamRows(['v', '2'])).toThrow(/no data field/);
    expect(() => decodeStreamRows(v2(streamEntryData(headJson, `{"a":"${'x'.repeat(MAX_STREAM_ENTRY_BYTES)}"}`, 'null')))).toThrow(/limit/);
    // The whole decode parses the parts too: broken JSON in them is refused here, not only by PostgreSQL.
    expect(() => decodeStreamEvents(v2(streamEntryData(headJson, '{"a":', 'null')))).toThrow(SyntaxError);
    expect(() => decodeStreamEvents(v2(streamEntryData(headJson, '[1]', 'null')))).toThrow();
  });

  it('refuses a version 3 entry whose count and lines disagree, and fails only the bad event of a good one', () => {
    const one = streamEntryDataOf(event);
    const two = `${one}\n${streamEntryDataOf(second)}`;
    expect(() => decodeStreamRows(['v', '3', 'data', one])).toThrow(/no valid event count/);
    expect(() => decodeStreamRows(['v', '3', 'n', '0', 'data', one])).toThrow(/no valid event count/);
    expect(() => decodeStreamRows(['v', '3', 'n', 'x', 'data', one])).toThrow(/no valid event count/);
    expect(() => decodeStreamRows(encodeStreamEntry(two, 1))).toThrow(/three lines/);
    expect(() => decodeStreamRows(encodeStreamEntry(one, 2))).toThrow(/6 lines/);
    expect(() => decodeStreamRows(encodeStreamEntry(`${two}\n`, 2))).toThrow(/6 lines/);
    const bad = `${one}\n${streamEntryData('{"project_id":"nope"}', '{}', 'null')}\n${streamEntryDataOf(second)}`;
    const rows = decodeStreamRows(encodeStreamEntry(bad, 3));
    expect(rowView(rows[0])).toEqual(rowView(streamRowOf(event)));
    expect(rows[1]).toBeInstanceOf(Error);
    expect(rowView(rows[2])).toEqual(rowView(streamRowOf(second)));
    expect(() => decodeStreamEvents(encodeStreamEntry(bad, 3))).toThrow(/project_id/);
  });

  it('keeps the JSON as the bytes of the entry, and marks the events whose JSON COPY must escape', () => {
    const plain = { ...second, event_id: 'e-3', properties: { city: 'Zürich 🙂' }, context: { page: 'a' } };
    const data = [event, second, plain, { ...plain, event_id: 'e-4', context: { path: 'C:\\temp' } }].map(streamEntryDataOf).join('\n');
    const bytes = asBytes(encodeStreamEntry(data, 4));
    const rows = decodeStreamRows(bytes) as StreamRow[];
    // The first holds a tab and a line break (escaped by JSON as backslashes), the last a backslash.
    expect(rows.map((r) => r.jsonEscapes)).toEqual([true, false, false, true]);
    for (const row of rows) expect(row.json).toBe(bytes[5]);
    expect(rowPropertiesJson(rows[2]!)).toBe('{"city":"Zürich 🙂"}');
    expect(rowContextJson(rows[1]!)).toBeNull();
    expect(rowContextJson(rows[3]!)).toBe('{"path":"C:\\\\temp"}');
    // The same as the fixtures' rows work it out from the text.
    expect(rows.map((r) => r.jsonEscapes)).toEqual(decodeStreamEvents(bytes).map((e) => streamRowOf(e).jsonEscapes));
  });

  it('bounds the data in characters, also when it comes as bytes', () => {
    // Three bytes per character: more bytes than the limit, fewer characters.
    const wide = streamEntryData(headJson, `{"a":"${'✓'.repeat(MAX_STREAM_ENTRY_BYTES / 2)}"}`, 'null');
    expect(Buffer.byteLength(wide)).toBeGreaterThan(MAX_STREAM_ENTRY_BYTES);
    expect(onlyRow(asBytes(v2(wide)))).toMatchObject({ event_id: 'e-1' });
    const long = streamEntryData(headJson, `{"a":"${'✓'.repeat(MAX_STREAM_ENTRY_BYTES)}"}`, 'null');
    expect(() => decodeStreamRows(asBytes(v2(long)))).toThrow(/limit/);
  });
});
