import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, streamKeys } from '@eap/core';

/** Entries not yet written: group lag plus pending over all shards (stream length without a group). */
export async function pipelineBacklog(redis: Redis, shards = 4): Promise<number> {
  let total = 0;
  for (const key of streamKeys(shards)) {
    const length = await redis.xlen(key);
    if (length === 0) continue;
    const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
    const group = groups
      .map((g) => new Map(Array.from({ length: g.length / 2 }, (_, i) => [String(g[2 * i]), g[2 * i + 1]])))
      .find((g) => g.get('name') === CONSUMER_GROUP);
    const lag = group?.get('lag');
    total += group && lag !== null && lag !== undefined ? Number(lag) + Number(group.get('pending') ?? 0) : length;
  }
  return total;
}
