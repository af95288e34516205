import type { Redis } from 'ioredis';
import { encodeStreamEntry, PROJECT_BACKLOG_KEY, streamKey } from '@eap/core';

/** One event ready to append: its shard and its serialized stream form. */
export interface PreparedEntry {
  shard: number;
  json: string;
}

export type AppendOutcome = { ok: true; id: string } | { ok: false; error: string };

/**
 * Appends events to the shard streams, one entry per event, pipelined. It never
 * trims (no MAXLEN/MINID): the backlog cap is enforced by refusing requests, never by dropping.
 * Each event gets its own outcome, so a partial failure is reported per event.
 */
export function createStreamProducer(redis: Redis) {
  // With ioredis auto-pipelining, XADDs issued in the same tick (by this request and by every
  // other request in flight) leave in one write; no explicit pipeline object is needed.
  async function append(projectId: string, entries: PreparedEntry[]): Promise<AppendOutcome[]> {
    // The project's share of the backlog (the worker subtracts in the script of its XACK) is
    // counted before the appends, on the same connection: Redis runs the commands in order, so
    // no worker can acknowledge an entry before it was counted. Appends that failed are taken
    // back; should that fail too (Redis going away), the count stays high, and the backlog
    // monitor never reads a project's count above the total backlog it measures.
    const counted = redis.hincrby(PROJECT_BACKLOG_KEY, projectId, entries.length).catch(() => undefined);
    const settled = await Promise.allSettled(
      entries.map((entry) => redis.xadd(streamKey(entry.shard), '*', ...encodeStreamEntry(entry.json))),
    );
    await counted;
    const outcomes: AppendOutcome[] = settled.map((result) =>
      result.status === 'fulfilled' ? { ok: true, id: String(result.value) } : { ok: false, error: (result.reason as Error).message },
    );
    const failed = outcomes.filter((o) => !o.ok).length;
    if (failed > 0) await redis.hincrby(PROJECT_BACKLOG_KEY, projectId, -failed).catch(() => undefined);
    return outcomes;
  }
  return { append };
}
export type StreamProducer = ReturnType<typeof createStreamProducer>;
