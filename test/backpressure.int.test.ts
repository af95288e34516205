import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CONSUMER_GROUP, streamKeys } from '@eap/core';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { startOwnRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, waitFor, type TestApi } from './support/test-api.ts';
import { startTestWorker } from './support/test-worker.ts';

let db: TestDatabase;
let redisServer: Awaited<ReturnType<typeof startOwnRedis>>;
let redis: Redis;
let api: TestApi;
let key: string;
let projectId: string;

const totalLength = async () => (await Promise.all(streamKeys(4).map((k) => redis.xlen(k)))).reduce((a, b) => a + b, 0);
const oneEvent = (i: number) => ({ event: 'e', distinct_id: `u${i}` });

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redisServer = await startOwnRedis();
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  // A memory cap of its own (1 GiB), so the backlog monitor never reads the tiny maxmemory the
  // out-of-memory test sets: that test is about Redis refusing the write itself, and a poll
  // landing in between would answer BACKLOG_FULL first. One project may hold the whole backlog
  // here: at the default share (50 %: 5 entries) a poll landing while the cap test sends its 10
  // entries one by one refuses the rest with PROJECT_BACKLOG_FULL, as it did on a busy machine.
  api = await startTestApi({
    databaseUrl: db.url,
    redisUrl: redisServer.url,
    env: { STREAM_BACKLOG_CAP: '10', STREAM_BACKLOG_MAX_BYTES: String(1024 ** 3), STREAM_BACKLOG_PROJECT_PERCENT: '100' },
  });
  const project = await createTestProject(db.pool);
  key = project.write_key;
  projectId = project.project_id;
});

afterAll(async () => {
  await api?.stop();
  redis?.disconnect();
  await redisServer?.close();
  await db?.drop();
});

/**
 * Sends events one request each, each after the last was answered, so each is an entry of its
 * own: the backlog, its cap and a project's share count entries (single events of a project
 * that reach the API together share one per shard).
 */
async function sendEach(target: TestApi, writeKey: string, events: ReturnType<typeof oneEvent>[]): Promise<number> {
  let accepted = 0;
  for (const event of events) {
    const res = await target.send('/v1/events', { key: writeKey, body: event });
    if (res.status !== 202) throw new Error(`event ${accepted + 1} of ${events.length} refused: ${res.status} ${JSON.stringify(res.json)}`);
    accepted += res.json.accepted;
  }
  return accepted;
}

describe('backlog cap', () => {
  it('refuses with 503 BACKLOG_FULL and Retry-After at the cap, never trimming, and accepts again once consumers catch up', async () => {
    expect(
      await sendEach(
        api,
        key,
        Array.from({ length: 10 }, (_, i) => oneEvent(i)),
      ),
    ).toBe(10);
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
    // As the worker does in the same script as its XACKs: the project's count goes down too.
    await redis.hincrby('eap:backlog:projects', projectId, -acked);
    await waitFor(() => api.server.backlog.current() === 10 - acked, 5000, 'backlog below the cap');
    await waitFor(() => api.server.backlog.refusal(projectId) === undefined, 5000, 'the project below its share');
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

describe('one project filling the backlog', () => {
  it('gets 429 PROJECT_BACKLOG_FULL at its share while another project is still accepted, and is accepted again once stored', async () => {
    await redis.flushall();
    const shared = await startTestApi({ databaseUrl: db.url, redisUrl: redisServer.url, env: { STREAM_BACKLOG_CAP: '10' } });
    try {
      const noisy = await createTestProject(db.pool, 'noisy');
      const quiet = await createTestProject(db.pool, 'quiet');
      expect(
        await sendEach(
          shared,
          noisy.write_key,
          Array.from({ length: 5 }, (_, i) => oneEvent(i)),
        ),
      ).toBe(5);
      await waitFor(() => shared.server.backlog.refusal(noisy.project_id) !== undefined, 5000, 'the noisy project measured at its share');
      const refused = await shared.send('/v1/events', { key: noisy.write_key, body: oneEvent(6) });
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatchObject({
        code: 'PROJECT_BACKLOG_FULL',
        details: { limit: 'STREAM_BACKLOG_PROJECT_PERCENT', backlog: 5, cap: 5 },
      });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // The other project is not affected: the total (5) is below the cap (10).
      expect(await sendEach(shared, quiet.write_key, [oneEvent(1), oneEvent(2)])).toBe(2);
      expect(await redis.hgetall('eap:backlog:projects')).toEqual({ [noisy.project_id]: '5', [quiet.project_id]: '2' });

      // A worker stores them: each acknowledgement takes the entry off its project's count.
      const worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redisServer.url });
      try {
        await waitFor(async () => Object.keys(await redis.hgetall('eap:backlog:projects')).length === 0, 10_000, 'counts back to zero');
        const rows = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE project_id = ANY($1)', [
          [noisy.project_id, quiet.project_id],
        ]);
        expect(rows.rows[0].n).toBe(7);
      } finally {
        await worker.stop();
      }
      await waitFor(() => shared.server.backlog.refusal(noisy.project_id) === undefined, 5000, 'the noisy project measured again');
      expect((await shared.send('/v1/events', { key: noisy.write_key, body: oneEvent(7) })).status).toBe(202);
      // A count left too high (an append that failed and could not be taken back) never refuses
      // more than what really waits in the streams.
      await waitFor(() => shared.server.backlog.current() === 0, 10_000, 'the last event stored');
      await redis.hset('eap:backlog:projects', noisy.project_id, '1000');
      await shared.server.backlog.measure();
      expect(shared.server.backlog.refusal(noisy.project_id)).toBeUndefined();
    } finally {
      await shared.stop();
    }
  });
});

describe('the backlog in bytes', () => {
  it('refuses with 503 BACKLOG_FULL when Redis reaches its share of maxmemory, whatever the entry count, and accepts once it is freed', async () => {
    await redis.flushall();
    const used = () => redis.info('memory').then((info) => Number(/^used_memory:(\d+)/m.exec(info)![1]));
    // maxmemory 64 MiB, and the API refuses at a share of it about 2 MiB above what Redis uses now.
    const max = 64 * 1024 * 1024;
    const base = await used();
    await redis.config('SET', 'maxmemory', String(max));
    const percent = Math.ceil(((base + 2 * 1024 * 1024) / max) * 100);
    const memoryApi = await startTestApi({
      databaseUrl: db.url,
      redisUrl: redisServer.url,
      env: { STREAM_BACKLOG_MEMORY_PERCENT: String(percent) },
    });
    try {
      const project = await createTestProject(db.pool, 'bytes');
      expect((await memoryApi.send('/v1/events', { key: project.write_key, body: oneEvent(1) })).status).toBe(202);
      // Data that is not even stream entries: the limit is Redis memory, whatever fills it.
      for (let i = 0; i < 10; i++) await redis.set(`ballast:${i}`, 'x'.repeat(512 * 1024));
      await waitFor(() => memoryApi.server.backlog.refusal(project.project_id) !== undefined, 5000, 'memory measured');
      const refused = await memoryApi.send('/v1/events', { key: project.write_key, body: oneEvent(2) });
      expect(refused.status).toBe(503);
      expect(refused.json.error).toMatchObject({ code: 'BACKLOG_FULL', details: { limit: 'Redis maxmemory' } });
      await redis.del(...Array.from({ length: 10 }, (_, i) => `ballast:${i}`));
      await waitFor(() => memoryApi.server.backlog.refusal(project.project_id) === undefined, 5000, 'memory measured again');
      expect((await memoryApi.send('/v1/events', { key: project.write_key, body: oneEvent(3) })).status).toBe(202);
    } finally {
      await memoryApi.stop();
      await redis.config('SET', 'maxmemory', '0');
    }
  });
});
