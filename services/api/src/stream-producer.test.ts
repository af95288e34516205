import { describe, expect, it } from 'vitest';
import { packEntries } from './stream-producer.ts';

const event = (shard: number, data: string) => ({ shard, data });

describe('packEntries', () => {
  it("puts a request's events of each shard in one entry, in their order, and says each event's entry", () => {
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
