import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONSUMER_GROUP, streamKey } from '@eap/core';
import { spawnWorker } from './support/pipeline-processes.ts';
import { appendEvents, countRows, dlqEntries, streamEvent } from './support/stream-fixtures.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';
import { createTestProject, waitFor } from './support/test-api.ts';

/**
 * The worker's memory is bounded by bytes, not entry counts, and a worker that keeps dying on
 * its own entries brings them to the dead-letter stream instead of re-reading them forever.
 */

const backends = useDatabaseAndRedis();

/** Properties of about 30 KB, under the 32 KiB limit: the largest events the API accepts. */
function largeProperties(i: number): Record<string, unknown> {
  const props: Record<string, unknown> = { i };
  for (let k = 0; k < 30; k++) props[`field_${k}`] = `${i}-${k}-`.padEnd(990, 'abcdefghij');
  return props;
}

/** Highest resident set of a process so far (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return Number(line?.split(/\s+/)[1]) / 1024;
  } catch {
    return 0; // the process is gone: the next check says how it ended
  }
}

describe('the worker draining the largest events', () => {
  it('stores a backlog of 1,200 events of 30 KB with a 128 MiB old generation, without dying', async () => {
    await backends.redis.client.flushdb();
    const project = await createTestProject(backends.db.pool, 'large-events');
    for (let shard = 0; shard < 4; shard++) {
      for (let start = 0; start < 300; start += 100) {
        const events = Array.from({ length: 100 }, (_, j) =>
          streamEvent(project.project_id, { distinct_id: `u${shard}-${start + j}`, properties: largeProperties(start + j) }),
        );
        await appendEvents(backends.redis.client, events, shard);
      }
    }
    // The heap the image, compose and operator used to ship, which this backlog ran out of.
    const worker = await spawnWorker({
      DATABASE_URL: backends.db.url,
      REDIS_URL: backends.redis.url,
      NODE_OPTIONS: '--max-semi-space-size=4 --max-old-space-size=128',
    });
    try {
      const pid = worker.child.pid!;
      let peak = 0;
      await waitFor(
        async () => {
          expect(worker.child.exitCode, worker.child.output()).toBeNull();
          peak = Math.max(peak, peakRssMiB(pid));
          return (await countRows(backends.db.pool, project.project_id)) === 1200;
        },
        120_000,
        '1,200 large events stored',
      );
      expect(worker.child.exitCode).toBeNull();
      expect(await backends.redis.client.xlen('eap:dlq')).toBe(0);
      console.log(`worker peak RSS draining 1,200 events of 30 KB: ${peak.toFixed(0)} MiB`);
    } finally {
      await worker.stop();
    }
  });
});

describe('redeliveries to the same consumer', () => {
  it('count toward MAX_DELIVERIES: a restarted worker dead-letters what it already failed on 5 times', async () => {
    await backends.redis.client.flushdb();
    const project = await createTestProject(backends.db.pool, 'own-redeliveries');
    const redis = backends.redis.client;
    const consumer = 'worker-that-keeps-dying';
    const key = streamKey(0);
    await redis.xgroup('CREATE', key, CONSUMER_GROUP, '0', 'MKSTREAM');
    const [poison] = await appendEvents(redis, [streamEvent(project.project_id, { event: 'poison' })]);
    // Five runs of the same worker took this entry and died before acknowledging it.
    await redis.xreadgroup('GROUP', CONSUMER_GROUP, consumer, 'COUNT', 1, 'STREAMS', key, '>');
    for (let run = 2; run <= 5; run++) await redis.xclaim(key, CONSUMER_GROUP, consumer, 0, poison!);
    // And one entry it took once.
    await appendEvents(redis, [streamEvent(project.project_id, { event: 'fresh' })]);
    await redis.xreadgroup('GROUP', CONSUMER_GROUP, consumer, 'COUNT', 1, 'STREAMS', key, '>');
    const worker = await spawnWorker({
      DATABASE_URL: backends.db.url,
      REDIS_URL: backends.redis.url,
      CONSUMER_NAME: consumer,
      MAX_DELIVERIES: '5',
    });
    try {
      await waitFor(async () => (await countRows(backends.db.pool, project.project_id)) === 1, 20_000, 'the fresh entry stored');
      await waitFor(async () => (await redis.xlen('eap:dlq')) === 1, 20_000, 'the exhausted entry dead-lettered');
      const [letter] = await dlqEntries(redis);
      expect(letter!.get('reason')).toBe('max_deliveries');
      expect(letter!.get('original_id')).toBe(poison);
      expect(letter!.get('deliveries')).toBe('6');
      const { rows } = await backends.db.pool.query('SELECT event FROM events WHERE project_id = $1', [project.project_id]);
      expect(rows).toEqual([{ event: 'fresh' }]);
    } finally {
      await worker.stop();
    }
  });
});
