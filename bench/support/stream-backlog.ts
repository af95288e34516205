import type { Redis } from 'ioredis';
import { measureShardBacklog } from '@eap/api';
import { streamKeys } from '@eap/core';

/** Entries not yet written over all shards, measured as the API measures it for its cap. */
export async function pipelineBacklog(redis: Redis, shards = 4): Promise<number> {
  let total = 0;
  for (const key of streamKeys(shards)) total += await measureShardBacklog(redis, key);
  return total;
}
