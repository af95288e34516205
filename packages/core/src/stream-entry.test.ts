import { describe, expect, it } from 'vitest';
import {
  decodeStreamEntry,
  decodeStreamRow,
  encodeStreamEntry,
  entryEventJson,
  MAX_STREAM_ENTRY_BYTES,
  type StreamEvent,
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
const v2 = (data: string) => encodeStreamEntry(data);
const v1 = (data: string) => ['v', '1', 'data', data];

describe('stream entries', () => {
  it('writes version 2: the head, the properties and the context on three lines', () => {
    const data = streamEntryDataOf(event);
    expect(data.split('\n')).toEqual([headJson, JSON.stringify(properties), JSON.stringify(context)]);
    expect(v2(data)).toEqual(['v', '2', 'data', data]);
    expect(entryProjectId(data)).toBe(event.project_id);
    expect(entryEventJson('2', data)).toBe(headJson);
  });

  it('decodes version 2 as the whole event, and as the row the worker writes with the JSON kept as written', () => {
    const data = streamEntryData(headJson, '{ "price" : 9.5 }', 'null');
    expect(decodeStreamEntry(v2(data))).toEqual({ ...head, properties: { price: 9.5 }, context: null });
    expect(decodeStreamRow(v2(data))).toEqual({ ...head, propertiesJson: '{ "price" : 9.5 }', contextJson: null });
    expect(decodeStreamRow(v2(streamEntryDataOf(event)))).toEqual(streamRowOf(event));
  });

  it('still decodes version 1, one JSON object, into the same event and row', () => {
    const data = JSON.stringify(event);
    expect(decodeStreamEntry(v1(data))).toEqual(event);
    expect(decodeStreamRow(v1(data))).toEqual(streamRowOf(event));
    expect(entryEventJson('1', data)).toBe(data);
    expect(entryProjectId(data)).toBe(event.project_id);
  });

  it('refuses what no API wrote, saying what is wrong', () => {
    const props = JSON.stringify(properties);
    const row = (data: string) => () => decodeStreamRow(v2(data));
    expect(row(`${headJson}\n${props}`)).toThrow(/three lines/);
    expect(row(`${headJson}\n${props}\nnull\n`)).toThrow(/three lines/);
    expect(row(streamEntryData(headJson, '[1]', 'null'))).toThrow(/properties are not a JSON object/);
    expect(row(streamEntryData(headJson, '"x"', 'null'))).toThrow(/properties are not a JSON object/);
    expect(row(streamEntryData(headJson, props, '3'))).toThrow(/context is neither a JSON object nor null/);
    expect(row(streamEntryData('{"project_id":"nope"}', props, 'null'))).toThrow(/project_id/);
    expect(row(streamEntryData(`${headJson.slice(0, -1)}`, props, 'null'))).toThrow(SyntaxError);
    expect(() => decodeStreamRow(['v', '3', 'data', streamEntryDataOf(event)])).toThrow(/unsupported stream entry version "3"/);
    expect(() => decodeStreamRow(['v', '2'])).toThrow(/no data field/);
    expect(() => decodeStreamRow(v2(streamEntryData(headJson, `{"a":"${'x'.repeat(MAX_STREAM_ENTRY_BYTES)}"}`, 'null')))).toThrow(/limit/);
    // The whole decode parses the parts too: broken JSON in them is refused here, not only by PostgreSQL.
    expect(() => decodeStreamEntry(v2(streamEntryData(headJson, '{"a":', 'null')))).toThrow(SyntaxError);
    expect(() => decodeStreamEntry(v2(streamEntryData(headJson, '[1]', 'null')))).toThrow();
  });
});
