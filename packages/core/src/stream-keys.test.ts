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

  it('is FNV-1a of project and distinct id, whichever project came before', () => {
    // Shards must not move between releases: a user's events stay in order only within one.
    const fnv = (s: string) => {
      let h = 0x811c9dc5;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      return h >>> 0;
    };
    const projects = ['0195f0a0-0000-7000-8000-000000000000', '0195f0a0-0000-7000-8000-000000000001'];
    for (let i = 0; i < 1_000; i++) {
      const project = projects[i % 3 === 0 ? 0 : 1]!;
      const user = `user-${i}-\u00e9\u{1f600}`;
      expect(shardFor(project, user, 16)).toBe(fnv(`${project}\u0001${user}`) % 16);
    }
    expect(shardFor(projects[0]!, 'alice', 4)).toBe(1);
  });
});
