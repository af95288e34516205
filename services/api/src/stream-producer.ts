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
    const settled = await Promise.allSettled(
      entries.map((entry) => redis.xadd(streamKey(entry.shard), '*', ...encodeStreamEntry(entry.json))),
    );
    const outcomes: AppendOutcome[] = settled.map((result) =>
      result.status === 'fulfilled' ? { ok: true, id: String(result.value) } : { ok: false, error: (result.reason as Error).message },
    );
    // The project's share of the backlog (the worker subtracts when it acknowledges). A failure
    // here only undercounts, which never refuses anybody wrongly; the events are appended.
    const appended = outcomes.filter((o) => o.ok).length;
    if (appended > 0) await redis.hincrby(PROJECT_BACKLOG_KEY, projectId, appended).catch(() => undefined);
    return outcomes;
  }
  return { append };
}
export type StreamProducer = ReturnType<typeof createStreamProducer>;
