import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONSUMER_GROUP, encodeStreamEntry, PROJECT_BACKLOG_KEY, streamEntryDataOf, streamKey } from '@eap/core';
import { acknowledgeEntries } from '../services/worker/src/dead-letter.ts';
import type { StreamEntry } from '../services/worker/src/stream-entries.ts';
import { streamEvent } from './support/stream-fixtures.ts';
import { useSharedRedis } from './support/test-redis.ts';

let redis: Awaited<ReturnType<typeof useSharedRedis>>;
beforeAll(async () => {
  redis = await useSharedRedis();
});
afterAll(async () => {
  await redis.close();
});
beforeEach(async () => {
  await redis.client.flushdb();
});

const projects = ['0195f0a0-0000-7000-8000-00000000000a', '0195f0a0-0000-7000-8000-00000000000b'];

/**
 * Appends `n` entries to a shard, alternating the projects, counts them in the projects' backlogs
 * as the API does, and delivers them to a consumer of the writers' group.
 */
async function delivered(shard: number, n: number): Promise<StreamEntry[]> {
  const key = streamKey(shard);
  await redis.client.xgroup('CREATE', key, CONSUMER_GROUP, '$', 'MKSTREAM');
  const pipeline = redis.client.pipeline();
  for (let i = 0; i < n; i++) {
    const project = projects[i % 2]!;
    pipeline.hincrby(PROJECT_BACKLOG_KEY, project, 1);
    pipeline.xadd(key, '*', ...encodeStreamEntry(streamEntryDataOf(streamEvent(project))));
  }
  await pipeline.exec();
  const reply = (await redis.client.xreadgroup('GROUP', CONSUMER_GROUP, 'c', 'COUNT', n, 'STREAMS', key, '>')) as [
    string,
    [string, string[]][],
  ][];
  return reply[0]![1].map(([id, fields]) => ({ shard, key, id, fields }));
}

const counts = async () => redis.client.hgetall(PROJECT_BACKLOG_KEY);
const pending = async (shard: number) => ((await redis.client.xpending(streamKey(shard), CONSUMER_GROUP)) as [number])[0];

describe('acknowledging entries', () => {
  it('acknowledges entries of several streams and projects, more than one XACK holds, and subtracts each once', async () => {
    const a = await delivered(0, 2_500);
    const b = await delivered(1, 7);
    expect(await counts()).toEqual({ [projects[0]!]: '1254', [projects[1]!]: '1253' });

    // Some of them first, shuffled across streams and projects.
    await acknowledgeEntries(redis.client, [...a.slice(0, 1_200), b[0]!, b[3]!].reverse());
    expect(await counts()).toEqual({ [projects[0]!]: String(1254 - 601), [projects[1]!]: String(1253 - 601) });
    expect([await pending(0), await pending(1)]).toEqual([1_300, 5]);

    // Then all, the first ones again (another worker acknowledged them already): not subtracted twice.
    await acknowledgeEntries(redis.client, [...a, ...b]);
    expect(await counts()).toEqual({});
    expect([await pending(0), await pending(1)]).toEqual([0, 0]);
  });

  it('acknowledges an entry whose data names no project without touching any count', async () => {
    const [entry] = await delivered(2, 1);
    await redis.client.hset(PROJECT_BACKLOG_KEY, 'other', 5);
    await acknowledgeEntries(redis.client, [{ ...entry!, fields: ['v', '2', 'data', 'not an event'] }]);
    expect(await pending(2)).toBe(0);
    expect(await counts()).toEqual({ [projects[0]!]: '1', other: '5' });
  });
});
