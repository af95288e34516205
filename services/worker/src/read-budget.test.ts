import { describe, expect, it } from 'vitest';
import { MAX_STREAM_ENTRY_BYTES } from '@eap/core';
import { batchesOf, createReadBudget } from './read-budget.ts';
import type { StreamEntry } from './stream-entries.ts';

const entry = (bytes: number, id = '1-0'): StreamEntry => ({ shard: 0, key: 'k', id, fields: ['v', '1', 'data', 'x'.repeat(bytes - 6)] });

describe('batchesOf', () => {
  it('cuts by count and by bytes, and never leaves an entry out or alone unless it is larger than the budget', () => {
    const small = Array.from({ length: 10 }, () => entry(100));
    expect(batchesOf(small, 4, 1_000_000).map((b) => b.length)).toEqual([4, 4, 2]);
    const large = Array.from({ length: 10 }, () => entry(30_000));
    expect(batchesOf(large, 1000, 100_000).map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(batchesOf([entry(200_000), entry(10)], 1000, 100_000).map((b) => b.length)).toEqual([1, 1]);
    expect(batchesOf([], 10, 10)).toEqual([]);
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
});
