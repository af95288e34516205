import { describe, expect, it } from 'vitest';
import { decodeStreamRows, type StreamEvent, type StreamRow, streamEntryDataOf, streamRowOf } from '@eap/core';
import { COLUMNS, copyChunks, copyLine, copyValue, createChunkPool, eventCopyChunks, eventRow } from './event-writer.ts';
import { utcDay } from './partition-manager.ts';

/** A stream event with the given properties and the other fields short and fixed. */
function event(eventId: string, properties: StreamEvent['properties'], context: StreamEvent['context'] = null): StreamRow {
  return streamRowOf(streamEvent(eventId, properties, context));
}

function streamEvent(eventId: string, properties: StreamEvent['properties'], context: StreamEvent['context'] = null): StreamEvent {
  return {
    project_id: 'p',
    event_id: eventId,
    event: 'n',
    distinct_id: 'u',
    timestamp: 't',
    client_timestamp: null,
    sent_at: null,
    received_at: 'r',
    session_id: null,
    properties,
    context,
  };
}

describe('COPY text encoding', () => {
  it('escapes backslashes, tabs and line breaks, and writes NULL as \\N', () => {
    expect(copyValue(null)).toBe('\\N');
    expect(copyValue('plain')).toBe('plain');
    expect(copyValue('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyValue('{"q":"say \\"hi\\""}')).toBe('{"q":"say \\\\"hi\\\\""}');
  });

  it('writes one tab-separated line per event', () => {
    const line = copyLine(event('e', { a: 'x\ty' }));
    expect(line).toBe('p\te\tn\tu\tt\t\\N\t\\N\tr\t\\N\t{"a":"x\\\\ty"}\t\\N\tf\n');
  });

  it("writes eventRow's columns in their order, so the one-template line and the column list agree", () => {
    for (const row of [event('e', { a: 'x\ty', b: 'back\\slash' }), { ...event('e', {}, { k: 'v' }), is_bot: true }])
      expect(copyLine(row)).toBe(`${eventRow(row).map(copyValue).join('\t')}\n`);
    expect(eventRow(event('e', {}))).toHaveLength(COLUMNS.split(', ').length);
  });

  it('writes is_bot, false when the entry does not say (entries of older APIs)', () => {
    expect(copyLine({ ...event('e', {}), is_bot: true }).endsWith('\tt\n')).toBe(true);
    expect(copyLine({ ...event('e', {}), is_bot: false }).endsWith('\tf\n')).toBe(true);
    expect(copyLine(event('e', {})).endsWith('\tf\n')).toBe(true);
  });

  it('streams the COPY text in Buffers of whole lines, none above the chunk size but a longer line', () => {
    const events = Array.from({ length: 10 }, (_, i) => event(`e${i}`, { i, padding: 'x'.repeat(i * 10), text: 'é✓🙂' }));
    const lines = events.map(copyLine);
    const chunks = [...copyChunks(events, copyLine, 100)];
    expect(Buffer.concat(chunks).toString()).toBe(lines.join(''));
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      const text = chunk.toString();
      expect(text.endsWith('\n')).toBe(true);
      const lineCount = text.split('\n').length - 1;
      // More than one line only when they fit; one line may be longer than the chunk size.
      if (lineCount > 1) expect(chunk.length).toBeLessThanOrEqual(100);
    }
    // Lines that fit share a chunk.
    const small = [...copyChunks(events.slice(0, 2), copyLine, 4096)];
    expect(small).toHaveLength(1);
    expect([...copyChunks([], copyLine, 100)]).toEqual([]);
  });

  it("writes the lines of rows read from an entry's bytes as copyLine writes them, escaping only what needs it", () => {
    const valid = (e: StreamEvent): StreamEvent => ({
      ...e,
      project_id: '0195f0a0-0000-7000-8000-000000000001',
      timestamp: '2026-11-29T07:00:00.000Z',
      received_at: '2026-11-29T07:00:01.000Z',
    });
    const events = [
      streamEvent('a', { plain: 'x' }),
      streamEvent('b', { tab: 'x\ty', back: 'C:\\temp', quote: '"' }, { ua: 'Mozilla/5.0' }),
      streamEvent('c\tid', { text: 'é✓🙂' }, { cr: 'a\rb' }),
      streamEvent('d', {}, { k: 'v' }),
      { ...streamEvent('e', { n: 1 }), is_bot: true },
    ].map(valid);
    const data = Buffer.from(events.map(streamEntryDataOf).join('\n'));
    const fromEntry = decodeStreamRows(['v', '3', 'n', String(events.length), 'data', data]);
    for (const row of fromEntry) expect(row).not.toBeInstanceOf(Error);
    const expected = events.map((e) => copyLine(streamRowOf(e))).join('');
    for (const rows of [fromEntry as StreamRow[], events.map(streamRowOf)])
      for (const chunkBytes of [1, 100, 4096]) {
        const chunks = [...eventCopyChunks(rows, chunkBytes)];
        expect(Buffer.concat(chunks).toString()).toBe(expected);
        for (const chunk of chunks) expect(chunk.at(-1)).toBe(0x0a);
      }
    expect([...eventCopyChunks([], 100)]).toEqual([]);
    // The JSON escaped as COPY wants it: each backslash doubled.
    expect(copyLine(event('b', { back: 'C:\\temp', quote: '"' }, { ua: 'x' }))).toBe(
      'p\tb\tn\tu\tt\t\\N\t\\N\tr\t\\N\t{"back":"C:\\\\\\\\temp","quote":"\\\\""}\t{"ua":"x"}\tf\n',
    );
  });

  it('reuses the chunks of a COPY that succeeded, keeps at most its bound, and never one larger than a chunk', () => {
    const pool = createChunkPool(2);
    const first = pool.lease();
    const [a, b, c] = [first.newChunk(100), first.newChunk(64 * 1024), first.newChunk(64 * 1024)];
    const large = first.newChunk(64 * 1024 + 1);
    expect([a.length, b.length, large.length]).toEqual([64 * 1024, 64 * 1024, 64 * 1024 + 1]);
    // A COPY that failed gives nothing back: its chunks may still be on their way to PostgreSQL.
    const failed = pool.lease();
    const lost = failed.newChunk(10);
    first.giveBack();
    const second = pool.lease();
    const reused = [second.newChunk(10), second.newChunk(10), second.newChunk(10)];
    expect(reused.slice(0, 2).every((chunk) => [a, b, c].includes(chunk))).toBe(true);
    expect([a, b, c, large, lost]).not.toContain(reused[2]);
    // The pool's chunks make the same text as fresh ones.
    const rows = Array.from({ length: 300 }, (_, i) => event(`e${i}`, { i, text: 'é✓🙂\\' }));
    const third = pool.lease();
    expect(Buffer.concat([...eventCopyChunks(rows, 64 * 1024, third.newChunk)]).toString()).toBe(rows.map(copyLine).join(''));
  });

  it('takes the UTC day from an ISO time', () => {
    expect(utcDay('2026-11-27T23:59:59.999Z')).toBe('2026-11-27');
    expect(utcDay('2026-11-28T01:00:00+02:00')).toBe('2026-11-27');
    expect(utcDay(Date.UTC(2026, 0, 2, 3))).toBe('2026-01-02');
  });
});
