import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, DLQ_STREAM, streamIdTime } from '@eap/core';
import type { StreamEntry } from './stream-entries.ts';

/** Why an entry could not be stored. */
export type DeadLetterReason = 'decode_error' | 'out_of_range' | 'db_rejected' | 'max_deliveries';

export interface DeadLetter {
  entry: StreamEntry;
  reason: DeadLetterReason;
  error: string;
}

/**
 * Moves entries to the dead-letter stream `eap:dlq` with everything needed to understand and
 * replay them (original fields, reason, error, stream, shard, original id, first-seen time,
 * deliveries), then acknowledges them in their shard. The DLQ append comes first: a crash in
 * between leaves the entry pending, so it is dead-lettered again rather than lost.
 */
export function createDeadLetterQueue(redis: Redis, options: { maxEntries: number; onTrimmed?: (count: number) => void }) {
  /**
   * Dead-letters entries; the DLQ is then trimmed to its newest `maxEntries` (oldest dropped,
   * counted by `onTrimmed`), so a flood of bad input cannot fill Redis.
   */
  async function deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const now = new Date().toISOString();
    const add = redis.pipeline();
    for (const { entry, reason, error } of letters) {
      add.xadd(
        DLQ_STREAM,
        '*',
        'reason',
        reason,
        'error',
        error.slice(0, 2000),
        'stream',
        entry.key,
        'shard',
        String(entry.shard),
        'original_id',
        entry.id,
        'first_seen',
        new Date(streamIdTime(entry.id)).toISOString(),
        'deliveries',
        String(entry.deliveries ?? 1),
        'dead_lettered_at',
        now,
        ...entry.fields,
      );
    }
    add.xtrim(DLQ_STREAM, 'MAXLEN', options.maxEntries);
    const results = await add.exec();
    throwOnPipelineError(results);
    const trimmed = Number(results?.at(-1)?.[1] ?? 0);
    if (trimmed > 0) options.onTrimmed?.(trimmed);
    await acknowledgeEntries(
      redis,
      letters.map((l) => l.entry),
    );
  }
  return { deadLetter };
}
export type DeadLetterQueue = ReturnType<typeof createDeadLetterQueue>;

/** Acknowledges entries with one XACK per shard stream (many ids per command). */
export async function acknowledgeEntries(redis: Redis, entries: readonly StreamEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const byKey = new Map<string, string[]>();
  for (const e of entries) {
    const ids = byKey.get(e.key);
    if (ids) ids.push(e.id);
    else byKey.set(e.key, [e.id]);
  }
  const pipeline = redis.pipeline();
  for (const [key, ids] of byKey) pipeline.xack(key, CONSUMER_GROUP, ...ids);
  throwOnPipelineError(await pipeline.exec());
}

/** Throws the first error of a pipeline reply (ioredis reports errors per command). */
export function throwOnPipelineError(results: [Error | null, unknown][] | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}
