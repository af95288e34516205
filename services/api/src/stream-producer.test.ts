import { describe, expect, it } from 'vitest';
import { packCall, packEntries } from './stream-producer.ts';

const event = (shard: number, data: string) => ({ shard, data });

describe('packEntries', () => {
  it("puts a project's events of each shard in one entry, in their order, and says each event's entry", () => {
    const events = [event(0, 'a'), event(1, 'b'), event(0, 'c'), event(2, 'd'), event(1, 'e')];
    expect(packEntries(events)).toEqual({
      entries: [
        { shard: 0, data: 'a\nc', events: 2 },
        { shard: 1, data: 'b\ne', events: 2 },
        { shard: 2, data: 'd', events: 1 },
      ],
      entryOf: [0, 1, 0, 2, 1],
    });
    expect(packEntries([])).toEqual({ entries: [], entryOf: [] });
  });

  it('starts a new entry where the next event would take the data over the limit, and gives a larger event an entry of its own', () => {
    const events = [event(0, 'x'.repeat(4)), event(0, 'y'.repeat(5)), event(0, 'z'.repeat(4)), event(0, 'w'.repeat(20)), event(0, 'v')];
    const { entries, entryOf } = packEntries(events, 10);
    expect(entries.map((e) => e.data)).toEqual(['xxxx\nyyyyy', 'zzzz', 'w'.repeat(20), 'v']);
    expect(entries.map((e) => e.events)).toEqual([2, 1, 1, 1]);
    expect(entryOf).toEqual([0, 0, 1, 2, 3]);
    for (const entry of entries.slice(0, 2)) expect(entry.data.length).toBeLessThanOrEqual(10);
  });
});

describe('packCall', () => {
  it("packs each project's events of a call together, in the order of its requests, and says each request's entries", () => {
    const requests = [
      { projectId: 'a', events: [event(0, 'a1')] },
      { projectId: 'b', events: [event(0, 'b1'), event(1, 'b2')] },
      { projectId: 'a', events: [event(1, 'a2'), event(0, 'a3')] },
      { projectId: 'a', events: [event(0, 'a4')] },
    ];
    expect(packCall(requests)).toEqual({
      counts: [
        ['a', 2],
        ['b', 2],
      ],
      entries: [
        { shard: 0, data: 'a1\na3\na4', events: 3 },
        { shard: 1, data: 'a2', events: 1 },
        { shard: 0, data: 'b1', events: 1 },
        { shard: 1, data: 'b2', events: 1 },
      ],
      entryOf: [[0], [2, 3], [1, 0], [0]],
    });
  });

  it('gives a lone request its own entries', () => {
    expect(packCall([{ projectId: 'a', events: [event(2, 'x')] }])).toEqual({
      counts: [['a', 1]],
      entries: [{ shard: 2, data: 'x', events: 1 }],
      entryOf: [[0]],
    });
  });
});
