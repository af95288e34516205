import { describe, expect, it } from 'vitest';
import { MAX_STREAM_ENTRY_BYTES } from '@eap/core';
import { batchesOf, createReadBudget, mayStartBatch } from './read-budget.ts';
import type { StreamEntry } from './stream-entries.ts';

const entry = (bytes: number, id = '1-0'): StreamEntry => ({ shard: 0, key: 'k', id, fields: ['v', '1', 'data', 'x'.repeat(bytes - 6)] });
/** An entry of `n` events (only its count and size matter here). */
const events = (bytes: number, n: number): StreamEntry => ({
  shard: 0,
  key: 'k',
  id: '1-0',
  fields: ['v', '3', 'n', String(n), 'data', 'x'.repeat(bytes - 7 - String(n).length)],
});

describe('batchesOf', () => {
  it('cuts by count and by bytes, and never leaves an entry out or alone unless it is larger than the budget', () => {
    const small = Array.from({ length: 10 }, () => entry(100));
    expect(batchesOf(small, 4, 1_000_000).map((b) => b.entries.length)).toEqual([4, 4, 2]);
    const large = Array.from({ length: 10 }, () => entry(30_000));
    expect(batchesOf(large, 1000, 100_000).map((b) => b.entries.length)).toEqual([3, 3, 3, 1]);
    expect(batchesOf([entry(200_000), entry(10)], 1000, 100_000).map((b) => b.entries.length)).toEqual([1, 1]);
    expect(batchesOf([], 10, 10)).toEqual([]);
  });

  it('counts the events of entries that hold several, and keeps an entry with more than a batch whole', () => {
    const requests = Array.from({ length: 5 }, () => events(400, 100));
    expect(batchesOf(requests, 250, 1_000_000).map((b) => b.entries.length)).toEqual([2, 2, 1]);
    expect(batchesOf([events(400, 300), entry(100), entry(100)], 250, 1_000_000).map((b) => b.entries.length)).toEqual([1, 2]);
  });
});

describe('createReadBudget', () => {
  it('reads few entries while they may be large, full batches once they are small, and fewer again when they grow', () => {
    const budget = createReadBudget({ batchSize: 1000, batchBytes: 8 * 1024 * 1024, shards: 4 });
    // Before any entry is seen, each may be as large as an entry can be: 2 MiB per shard / the largest entry.
    expect(budget.perShardCount()).toBe(Math.floor((2 * 1024 * 1024) / MAX_STREAM_ENTRY_BYTES));
    for (let i = 0; i < 40; i++) budget.observe([entry(400)]);
    expect(budget.perShardCount()).toBe(250);
    budget.observe([entry(400), entry(30_000)]);
    expect(budget.perShardCount()).toBe(69);
  });

  it('asks for fewer entries when each holds many events, and for more again as they shrink', () => {
    const budget = createReadBudget({ batchSize: 1000, batchBytes: 8 * 1024 * 1024, shards: 4 });
    for (let i = 0; i < 40; i++) budget.observe([entry(400)]);
    budget.observe([events(40_000, 100)]);
    // 250 events per shard, 100 per entry.
    expect(budget.perShardCount()).toBe(3);
    for (let i = 0; i < 40; i++) budget.observe([entry(400)]);
    expect(budget.perShardCount()).toBe(250);
  });
});

describe('batches in flight', () => {
  const limits = { concurrency: 4, maxBytesInFlight: 3_000_000 };

  it('measures each batch by the characters of its entries', () => {
    expect(batchesOf([entry(100), entry(30_000), events(400, 100), entry(90_000)], 1000, 100_000).map((b) => b.bytes)).toEqual([
      30_500, 90_000,
    ]);
  });

  it('starts batches of small events up to the count, and batches of large ones up to the bytes', () => {
    // Batches of about 600 KB (1,000 events of 600 characters): four go, the fifth waits.
    expect([0, 1, 2, 3, 4].map((n) => mayStartBatch(n, n * 600_000, 600_000, limits))).toEqual([true, true, true, true, false]);
    // Batches of about 1 MB (the largest events): three go, the fourth waits although the count allows it.
    expect([0, 1, 2, 3].map((n) => mayStartBatch(n, n * 1_000_000, 1_000_000, limits))).toEqual([true, true, true, false]);
  });

  it('always starts a batch when none is in flight, however large, and nothing beside one that fills the bound', () => {
    expect(mayStartBatch(0, 0, 50_000_000, limits)).toBe(true);
    expect(mayStartBatch(1, 50_000_000, 100, limits)).toBe(false);
    expect(mayStartBatch(1, 2_999_900, 100, limits)).toBe(true);
    expect(mayStartBatch(1, 2_999_901, 100, limits)).toBe(false);
  });
});
