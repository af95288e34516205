import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CONSUMER_GROUP, streamKeys } from '@eap/core';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { startOwnRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, waitFor, type TestApi } from './support/test-api.ts';

let db: TestDatabase;
let redisServer: Awaited<ReturnType<typeof startOwnRedis>>;
let redis: Redis;
let api: TestApi;
let key: string;

const totalLength = async () => (await Promise.all(streamKeys(4).map((k) => redis.xlen(k)))).reduce((a, b) => a + b, 0);
const oneEvent = (i: number) => ({ event: 'e', distinct_id: `u${i}` });

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redisServer = await startOwnRedis();
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redisServer.url, env: { STREAM_BACKLOG_CAP: '10' } });
  key = (await createTestProject(db.pool)).write_key;
});

afterAll(async () => {
  await api?.stop();
  redis?.disconnect();
  await redisServer?.close();
  await db?.drop();
});

describe('backlog cap', () => {
  it('refuses with 503 BACKLOG_FULL and Retry-After at the cap, never trimming, and accepts again once consumers catch up', async () => {
    const res = await api.send('/v1/batch', { key, body: { events: Array.from({ length: 10 }, (_, i) => oneEvent(i)) } });
    expect(res.json.accepted).toBe(10);
    await waitFor(() => api.server.backlog.current() >= 10, 5000, 'backlog measured');
    const refused = await api.send('/v1/events', { key, body: oneEvent(99) });
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('BACKLOG_FULL');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Nothing was dropped to make room.
    expect(await totalLength()).toBe(10);

    // A consumer group reads and acknowledges 6 entries: backlog = lag + pending = 4.
    let acked = 0;
    for (const k of streamKeys(4)) {
      await redis.xgroup('CREATE', k, CONSUMER_GROUP, '0', 'MKSTREAM');
      const read = (await redis.xreadgroup('GROUP', CONSUMER_GROUP, 'c1', 'COUNT', 10, 'STREAMS', k, '>')) as
        | [string, [string, string[]][]][]
        | null;
      for (const [, entries] of read ?? []) {
        for (const [id] of entries) {
          if (acked < 6) {
            await redis.xack(k, CONSUMER_GROUP, id);
            acked++;
          }
        }
      }
    }
    await waitFor(() => api.server.backlog.current() === 10 - acked, 5000, 'backlog below the cap');
    const accepted = await api.send('/v1/events', { key, body: oneEvent(100) });
    expect(accepted.status).toBe(202);
    expect(await totalLength()).toBe(11);
  });
});

describe('Redis unavailable', () => {
  it('answers 503 STREAM_UNAVAILABLE with Retry-After while Redis is down, reports not ready, and recovers by itself', async () => {
    await redis.flushall();
    await waitFor(() => api.server.backlog.current() === 0, 5000, 'backlog reset');
    await redisServer.server.stop();
    await waitFor(() => api.server.redis.status !== 'ready', 5000, 'API noticed Redis is down');
    const res = await api.send('/v1/batch', { key, body: { events: [oneEvent(1)] } });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('STREAM_UNAVAILABLE');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const ready = await fetch(`${api.adminUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { redis: { ok: boolean } } }).checks.redis.ok).toBe(false);

    await redisServer.server.start();
    await waitFor(() => api.server.redis.status === 'ready', 15_000, 'API reconnected to Redis');
    const after = await api.send('/v1/batch', { key, body: { events: [oneEvent(2), oneEvent(3)] } });
    expect(after.status).toBe(202);
    expect(after.json.accepted).toBe(2);
    expect(await totalLength()).toBe(2);
    expect((await fetch(`${api.adminUrl}/readyz`)).status).toBe(200);
  });

  it('answers 503 (not 500) when Redis refuses writes because it is out of memory', async () => {
    await redis.config('SET', 'maxmemory', '1');
    try {
      const res = await api.send('/v1/events', { key, body: oneEvent(5) });
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe('STREAM_UNAVAILABLE');
      // Refused during the request: each event comes back with the id to resend it with, so a
      // retry cannot store it twice if an append did happen.
      const batch = await api.send('/v1/batch', { key, body: { events: [oneEvent(6), { event: '' }, oneEvent(7)] } });
      expect(batch.status).toBe(503);
      const rejected = batch.json.error.details.rejected as { index: number; event_id?: string; retriable: boolean }[];
      expect(rejected.map((r) => [r.index, r.retriable])).toEqual([
        [0, true],
        [1, false],
        [2, true],
      ]);
      expect(rejected[0]!.event_id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
  });
});
