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
export function createDeadLetterQueue(redis: Redis) {
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
    throwOnPipelineError(await add.exec());
    const ack = redis.pipeline();
    for (const { entry } of letters) ack.xack(entry.key, CONSUMER_GROUP, entry.id);
    throwOnPipelineError(await ack.exec());
  }
  return { deadLetter };
}
export type DeadLetterQueue = ReturnType<typeof createDeadLetterQueue>;

/** Throws the first error of a pipeline reply (ioredis reports errors per command). */
export function throwOnPipelineError(results: [Error | null, unknown][] | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}
