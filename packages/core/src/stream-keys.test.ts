import { describe, expect, it } from 'vitest';
import { shardFor, streamKey, streamKeys } from './stream-keys.ts';

describe('stream keys', () => {
  it('names shards with a Redis Cluster hash tag', () => {
    expect(streamKey(3)).toBe('eap:events:{3}');
    expect(streamKeys(2)).toEqual(['eap:events:{0}', 'eap:events:{1}']);
  });

  it('keeps a user on one shard and spreads users evenly', () => {
    const p = '0195f0a0-0000-7000-8000-000000000000';
    expect(shardFor(p, 'alice', 4)).toBe(shardFor(p, 'alice', 4));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[shardFor(p, `user-${i}`, 4)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});
