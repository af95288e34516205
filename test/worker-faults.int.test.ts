// Fault tests with real processes: spawned `eap api` and `eap worker`, real Redis and PostgreSQL.
// Each one ends by counting rows in PostgreSQL against what the API accepted.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONSUMER_GROUP, MAX_STREAM_ENTRY_BYTES, streamKey, streamKeys } from '@eap/core';
import { createMigrator } from '@eap/db';
import { runEap } from '@eap/local-services';
import pg from 'pg';
import { type EapProcess, readMetric, sendLoad, spawnApi, spawnWorker } from './support/pipeline-processes.ts';
import { appendEvents, appendRaw, countRows, dlqEntries, streamEvent } from './support/stream-fixtures.ts';
import { createTestDatabase, type TestDatabase, useDatabaseAndRedis } from './support/test-database.ts';
import { createTestProject, waitFor } from './support/test-api.ts';
import { type ContainerService, startPostgresContainer } from './support/test-containers.ts';
import { startOwnRedis, useSharedRedis } from './support/test-redis.ts';

// These tests move tens of thousands of events through spawned processes; on a busy 2-core
// machine (other test files run in parallel) that can take minutes, not seconds.
vi.setConfig({ testTimeout: 240_000 });

/** Entries delivered but not acknowledged, over all shards. */
async function pendingCount(redis: Redis): Promise<number> {
  let n = 0;
  for (const key of streamKeys(4)) {
    if (!(await redis.exists(key))) continue;
    if (((await redis.xinfo('GROUPS', key)) as unknown[]).length === 0) continue;
    n += Number(((await redis.xpending(key, CONSUMER_GROUP)) as [number])[0]);
  }
  return n;
}

async function stopAll(processes: EapProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.kill()));
}

describe('workers killed with SIGKILL again and again under load', () => {
  const backends = useDatabaseAndRedis();

  it('stores every one of 100,000 accepted events exactly once', async () => {
    const project = await createTestProject(backends.db.pool);
    const env = { DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url };
    const api = await spawnApi({ ...env, RATE_LIMIT_PER_SECOND: '0' });
    const workers: EapProcess[] = [await spawnWorker({ ...env, CONSUMER_NAME: 'w0' }), await spawnWorker({ ...env, CONSUMER_NAME: 'w1' })];
    const all = [api, ...workers];
    const stopLoad = new AbortController();
    try {
      const load = sendLoad({
        url: api.url,
        key: project.write_key,
        total: 100_000,
        batchSize: 500,
        concurrency: 4,
        signal: stopLoad.signal,
      });
      let loadDone = false;
      // Settled either way, so a failure below never leaves an unobserved rejection behind.
      const loadSettled = load.then(
        () => {
          loadDone = true;
        },
        () => {
          loadDone = true;
        },
      );
      // Kill a worker every 1.5 s while events flow, and start a new one in its place.
      let kills = 0;
      for (let round = 0; round < 6 && (!loadDone || round < 2); round++) {
        await new Promise((r) => setTimeout(r, 1500));
        const victim = workers.shift()!;
        await victim.kill();
        kills++;
        const fresh = await spawnWorker({ ...env, CONSUMER_NAME: `w${round + 2}` });
        workers.push(fresh);
        all.push(fresh);
      }
      await loadSettled;
      const result = await load;
      expect(kills).toBeGreaterThanOrEqual(2);
      expect(result.accepted).toBe(100_000);
      expect([...result.statuses.keys()].filter((s) => s >= 500 && s !== 503)).toEqual([]);
      await waitFor(
        async () =>
          (await countRows(backends.db.pool, project.project_id)) === result.accepted && (await pendingCount(backends.redis.client)) === 0,
        180_000,
        `${result.accepted} rows and nothing pending`,
      );
      expect(await countRows(backends.db.pool, project.project_id)).toBe(100_000);
      expect(await backends.redis.client.xlen('eap:dlq')).toBe(0);
      // Whether a kill caught a worker holding entries depends on timing here; the next test
      // makes sure one does and checks the takeover itself.
    } finally {
      stopLoad.abort();
      await stopAll(all);
    }
  });

  it('two workers, one killed while holding entries: the other takes them over', async () => {
    await backends.redis.client.flushdb();
    const { project_id: projectId } = await createTestProject(backends.db.pool);
    const env = { DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url };
    const doomed = await spawnWorker({ ...env, CONSUMER_NAME: 'doomed', WORKER_BATCH_SIZE: '50' });
    let survivor: EapProcess | undefined;
    const blocker = await backends.db.pool.connect();
    try {
      for (let shard = 0; shard < 4; shard++)
        await appendEvents(
          backends.redis.client,
          Array.from({ length: 500 }, () => streamEvent(projectId)),
          shard,
        );
      await waitFor(async () => (await countRows(backends.db.pool, projectId)) >= 200, 30_000, 'the first worker wrote some rows');
      // Freeze its writes with a table lock: it goes on reading, so it holds delivered entries
      // when it dies, as a worker that crashed mid-batch would.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      await waitFor(async () => (await pendingCount(backends.redis.client)) > 0, 30_000, 'the first worker holds entries');
      await doomed.kill();
      await blocker.query('ROLLBACK');
      const orphaned = await pendingCount(backends.redis.client);
      expect(orphaned).toBeGreaterThan(0);
      survivor = await spawnWorker({ ...env, CONSUMER_NAME: 'survivor' });
      await waitFor(
        async () => (await countRows(backends.db.pool, projectId)) === 2000 && (await pendingCount(backends.redis.client)) === 0,
        180_000,
        '2000 rows',
      );
      expect(await readMetric(survivor.adminUrl, 'eap_worker_entries_claimed_total')).toBe(orphaned);
      expect(await backends.redis.client.xlen('eap:dlq')).toBe(0);
      expect(await survivor.stop()).toBe(0);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await stopAll([doomed, ...(survivor ? [survivor] : [])]);
    }
  });

  it('client retries of the same batch store each event once', async () => {
    await backends.redis.client.flushdb();
    const project = await createTestProject(backends.db.pool);
    const env = { DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url };
    const api = await spawnApi(env);
    const worker = await spawnWorker(env);
    try {
      const fixed = (i: number) => ({
        event: 'order',
        distinct_id: `u${i}`,
        event_id: `order-${i}`,
        timestamp: '2026-11-27T12:00:00.000Z',
      });
      const first = await sendLoad({ url: api.url, key: project.write_key, total: 2000, batchSize: 200, concurrency: 2, makeEvent: fixed });
      const retry = await sendLoad({ url: api.url, key: project.write_key, total: 2000, batchSize: 200, concurrency: 2, makeEvent: fixed });
      expect(first.accepted + retry.accepted).toBe(4000);
      await waitFor(
        async () => (await readMetric(worker.adminUrl, 'eap_worker_events_deduplicated_total')) === 2000,
        30_000,
        '2000 duplicates skipped',
      );
      expect(await countRows(backends.db.pool, project.project_id)).toBe(2000);
    } finally {
      await stopAll([api, worker]);
    }
  });
});

describe('PostgreSQL stopped for 10 s during load', () => {
  let postgres: ContainerService;
  let redis: Awaited<ReturnType<typeof useSharedRedis>>;
  beforeAll(async () => {
    // Durable settings (no `fast`): a crash must not lose committed rows.
    postgres = await startPostgresContainer();
    await createMigrator(postgres.url).up();
    redis = await useSharedRedis();
  });
  afterAll(async () => {
    await redis?.close();
    await postgres?.remove();
  });

  it('loses nothing, dead-letters nothing, reports not ready, and drains the backlog after', async () => {
    const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    pool.on('error', () => undefined);
    const project = await createTestProject(pool);
    const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url };
    const api = await spawnApi(env);
    const worker = await spawnWorker({ ...env, WORKER_BATCH_SIZE: '200' });
    try {
      const before = await sendLoad({ url: api.url, key: project.write_key, total: 5000, batchSize: 250, concurrency: 2 });
      await waitFor(async () => (await countRows(pool, project.project_id)) === 5000, 30_000, 'first 5000 rows');
      await postgres.stop();
      const downSince = Date.now();
      // Ingest keeps working: keys are cached and events only need Redis.
      const during = await sendLoad({ url: api.url, key: project.write_key, total: 10_000, batchSize: 250, concurrency: 2 });
      await waitFor(async () => (await fetch(`${worker.adminUrl}/readyz`)).status === 503, 20_000, 'worker reports not ready');
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - downSince))));
      expect(await pendingCount(redis.client)).toBeGreaterThan(0);
      await postgres.start();
      const after = await sendLoad({ url: api.url, key: project.write_key, total: 5000, batchSize: 250, concurrency: 2 });
      const accepted = before.accepted + during.accepted + after.accepted;
      expect(accepted).toBe(20_000);
      await waitFor(
        async () => (await countRows(pool, project.project_id).catch(() => -1)) === accepted && (await pendingCount(redis.client)) === 0,
        180_000,
        `${accepted} rows after the restart`,
      );
      await waitFor(async () => (await fetch(`${worker.adminUrl}/readyz`)).status === 200, 20_000, 'worker ready again');
      expect(await redis.client.xlen('eap:dlq')).toBe(0);
      expect(await readMetric(worker.adminUrl, 'eap_worker_write_retries_total')).toBeGreaterThan(0);
    } finally {
      await stopAll([api, worker]);
      await pool.end();
    }
  });
});

describe('Redis (AOF appendfsync always) killed and restarted during load', () => {
  let db: TestDatabase;
  let own: Awaited<ReturnType<typeof startOwnRedis>>;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    own = await startOwnRedis({ appendFsync: 'always' });
  });
  afterAll(async () => {
    await own?.close();
    await db?.drop();
  });

  it('answers 503 (never 500) while Redis is down and stores every event that got a 202', async () => {
    const project = await createTestProject(db.pool);
    const env = { DATABASE_URL: db.url, REDIS_URL: own.url };
    const api = await spawnApi(env);
    const worker = await spawnWorker(env);
    const stopLoad = new AbortController();
    try {
      const load = sendLoad({
        url: api.url,
        key: project.write_key,
        total: 30_000,
        batchSize: 100,
        concurrency: 3,
        signal: stopLoad.signal,
      });
      await new Promise((r) => setTimeout(r, 700));
      await own.server.kill();
      await new Promise((r) => setTimeout(r, 1500));
      await own.server.start();
      const result = await load;
      expect(result.statuses.get(503) ?? 0).toBeGreaterThan(0);
      expect([...result.statuses.keys()].sort()).toEqual([202, 503]);
      expect(result.networkErrors).toBe(0);
      // Every event was accepted once in some 202 (events retried after a retriable rejection
      // included); the table must hold exactly the 30,000 distinct events.
      expect(result.accepted).toBe(30_000);
      const check = new Redis(own.url);
      try {
        await waitFor(
          async () => (await countRows(db.pool, project.project_id)) === 30_000 && (await pendingCount(check)) === 0,
          180_000,
          '30000 rows',
        );
        expect(await check.xlen('eap:dlq')).toBe(0);
      } finally {
        check.disconnect();
      }
    } finally {
      stopLoad.abort();
      await stopAll([api, worker]);
    }
  });
});

describe('poison entries', () => {
  const backends = useDatabaseAndRedis();

  it('go to the DLQ with reasons while the good entries of the same batch are stored; a repaired one replays', async () => {
    const { project_id: projectId } = await createTestProject(backends.db.pool);
    const good = Array.from({ length: 40 }, () => streamEvent(projectId));
    const old = streamEvent(projectId, { timestamp: new Date(Date.now() - 5 * 86_400_000).toISOString() });
    await appendEvents(backends.redis.client, good.slice(0, 10));
    await appendRaw(backends.redis.client, ['v', '1', 'data', '{"truncated":']);
    await appendEvents(backends.redis.client, [streamEvent(projectId, { event: 'nul\u0000name' })]);
    await appendEvents(backends.redis.client, good.slice(10, 20));
    await appendRaw(backends.redis.client, [
      'v',
      '1',
      'data',
      JSON.stringify({ ...streamEvent(projectId), properties: { blob: 'x'.repeat(100_000) } }),
    ]);
    await appendEvents(backends.redis.client, [streamEvent(projectId, { properties: { k: 'v\u0000' } })]);
    await appendEvents(backends.redis.client, [old]);
    await appendEvents(backends.redis.client, good.slice(20));
    const env = { DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url };
    // This worker only accepts events of the last day: the 5-day-old one is dead-lettered.
    let worker = await spawnWorker({ ...env, MAX_EVENT_AGE_DAYS: '1' });
    try {
      await waitFor(
        async () => (await countRows(backends.db.pool, projectId)) === 40 && (await backends.redis.client.xlen('eap:dlq')) === 5,
        30_000,
        '40 rows, 5 dead letters',
      );
      const letters = await dlqEntries(backends.redis.client);
      expect(letters.map((l) => l.get('reason')).sort()).toEqual([
        'db_rejected',
        'db_rejected',
        'decode_error',
        'decode_error',
        'out_of_range',
      ]);
      for (const l of letters) {
        expect(l.get('error')!.length).toBeGreaterThan(0);
        expect(l.get('stream')).toBe(streamKey(0));
      }
      expect(letters.find((l) => l.get('reason') === 'out_of_range')!.get('error')).toMatch(/outside the accepted range/);
      expect(letters.filter((l) => l.get('reason') === 'decode_error').map((l) => l.get('error'))).toEqual(
        expect.arrayContaining([expect.stringMatching(/JSON/), expect.stringMatching(new RegExp(`limit is ${MAX_STREAM_ENTRY_BYTES}`))]),
      );
      // The repair: a worker that accepts older events. Then replay that one entry.
      expect(await worker.stop()).toBe(0);
      worker = await spawnWorker({ ...env, MAX_EVENT_AGE_DAYS: '30' });
      const [id] = (await backends.redis.client.xrange('eap:dlq', '-', '+')).find(([, f]) => f.includes('out_of_range'))!;
      const replay = await runEap(['dlq', 'replay', id], { REDIS_URL: backends.redis.url });
      expect(replay.code, replay.stderr).toBe(0);
      expect(JSON.parse(replay.stdout)).toEqual({ replayed: 1, skipped: [] });
      await waitFor(async () => (await countRows(backends.db.pool, projectId)) === 41, 30_000, 'replayed event stored');
      const { rows } = await backends.db.pool.query('SELECT 1 FROM events WHERE project_id = $1 AND event_id = $2', [
        projectId,
        old.event_id,
      ]);
      expect(rows).toHaveLength(1);
      expect(await backends.redis.client.xlen('eap:dlq')).toBe(4);
    } finally {
      await worker.kill();
    }
  });
});
