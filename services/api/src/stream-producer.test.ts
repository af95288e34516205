import { describe, expect, it } from 'vitest';
import { packCall, packEntries, requestToAppend } from './stream-producer.ts';

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
  it("gives a project's single-event requests of a call shared entries, in the order they asked, and a request of several events its own", () => {
    const requests = [
      requestToAppend('a', [event(0, 'a1')]),
      requestToAppend('b', [event(0, 'b1'), event(1, 'b2')]),
      requestToAppend('a', [event(1, 'a2'), event(0, 'a3')]),
      requestToAppend('a', [event(0, 'a4')]),
      requestToAppend('b', [event(2, 'b3')]),
      requestToAppend('a', [event(1, 'a5')]),
    ];
    expect(packCall(requests)).toEqual({
      counts: [
        ['b', 3],
        ['a', 4],
      ],
      entries: [
        { shard: 0, data: 'b1', events: 1 },
        { shard: 1, data: 'b2', events: 1 },
        { shard: 1, data: 'a2', events: 1 },
        { shard: 0, data: 'a3', events: 1 },
        { shard: 0, data: 'a1\na4', events: 2 },
        { shard: 1, data: 'a5', events: 1 },
        { shard: 2, data: 'b3', events: 1 },
      ],
      entryOf: [[4], [0, 1], [2, 3], [4], [6], [5]],
    });
  });
});
