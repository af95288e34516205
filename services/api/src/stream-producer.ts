import type { Redis } from 'ioredis';
import { encodeStreamEntry, streamKey } from '@eap/core';

/** One event ready to append: its shard and its serialized stream form. */
export interface PreparedEntry {
  shard: number;
  json: string;
}

export type AppendOutcome = { ok: true; id: string } | { ok: false; error: string };

/**
 * Appends events to the shard streams in one pipelined round trip, one entry per event. It never
 * trims (no MAXLEN/MINID): the backlog cap is enforced by refusing requests, never by dropping.
 * Each event gets its own outcome, so a partial failure is reported per event.
 */
export function createStreamProducer(redis: Redis) {
  async function append(entries: PreparedEntry[]): Promise<AppendOutcome[]> {
    const pipeline = redis.pipeline();
    for (const entry of entries) pipeline.xadd(streamKey(entry.shard), '*', ...encodeStreamEntry(entry.json));
    const results = (await pipeline.exec()) ?? [];
    return entries.map((_, i) => {
      const result = results[i];
      if (!result) return { ok: false, error: 'no reply from Redis' };
      const [error, id] = result;
      if (error) return { ok: false, error: error.message };
      return { ok: true, id: String(id) };
    });
  }
  return { append };
}
export type StreamProducer = ReturnType<typeof createStreamProducer>;
