import { CONSUMER_GROUP, parseStreamGroups, streamKeys } from '@eap/core';
import type { Redis } from 'ioredis';

export interface BacklogReading {
  /** Lag + pending of the writers' group summed over every shard; null when it cannot be known. */
  backlog: number | null;
  /** Why the backlog is unknown, when it is. */
  unknownBecause?: string;
}

/**
 * Reads the workers' backlog from Redis (XINFO GROUPS on each shard): lag (never delivered) plus
 * pending (delivered, not acknowledged). A shard whose stream does not exist counts 0 (nothing
 * was ever sent to it); a shard without the writers' group, or whose lag Redis cannot compute
 * (after deletions), makes the whole backlog unknown, so the autoscaler holds the replicas.
 * Redis errors are thrown.
 */
export async function readBacklog(redis: Redis, shards: number): Promise<BacklogReading> {
  const replies = await Promise.all(
    streamKeys(shards).map((key) =>
      (redis.xinfo('GROUPS', key) as Promise<unknown>).catch((error: unknown) => {
        if (error instanceof Error && /no such key/i.test(error.message)) return undefined;
        throw error;
      }),
    ),
  );
  let backlog = 0;
  for (const [shard, reply] of replies.entries()) {
    if (reply === undefined) continue;
    const writers = parseStreamGroups(reply).find((group) => group.name === CONSUMER_GROUP);
    if (!writers) return { backlog: null, unknownBecause: `shard ${shard} has no consumer group ${CONSUMER_GROUP} yet` };
    if (writers.lag === null) return { backlog: null, unknownBecause: `Redis cannot compute the lag of shard ${shard}` };
    backlog += writers.lag + writers.pending;
  }
  return { backlog };
}
