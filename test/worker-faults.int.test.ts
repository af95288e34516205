import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_GROUP, streamKeys } from '@eap/core';
import { createMigrator } from '@eap/db';
import { freePort, type LocalService, startPostgres } from '@eap/local-services';
import pg from 'pg';
import { exited, spawnEap } from './support/run-eap.ts';
import { appendEvents, countRows, streamEvent } from './support/stream-fixtures.ts';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { createTestProject, startTestApi, waitFor } from './support/test-api.ts';
import { startOwnRedis, useSharedRedis } from './support/test-redis.ts';
import { startTestWorker } from './support/test-worker.ts';

/** Pending entries of the writers' group over all shards. */
async function pendingCount(redis: Redis): Promise<number> {
  let n = 0;
  for (const key of streamKeys(4)) {
    if (!(await redis.exists(key))) continue;
    const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
    if (groups.length === 0) continue;
    n += Number(((await redis.xpending(key, CONSUMER_GROUP)) as [number])[0]);
  }
  return n;
}

describe('a worker killed in the middle of the stream', () => {
  let db: TestDatabase;
  let redis: Awaited<ReturnType<typeof useSharedRedis>>;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    redis = await useSharedRedis();
  });
  afterAll(async () => {
    await redis?.close();
    await db?.drop();
  });

  it('loses nothing and stores nothing twice: another worker takes over its pending entries', async () => {
    const { project_id: projectId } = await createTestProject(db.pool);
    const total = 6000;
    for (let shard = 0; shard < 4; shard++) {
      await appendEvents(
        redis.client,
        Array.from({ length: total / 4 }, () => streamEvent(projectId)),
        shard,
      );
    }
    const child = spawnEap(['worker'], {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      ADMIN_PORT: String(await freePort()),
      CONSUMER_NAME: 'doomed',
      WORKER_BATCH_SIZE: '50',
    });
    const blocker = await db.pool.connect();
    try {
      await waitFor(async () => (await countRows(db.pool, projectId)) >= 500, 30_000, 'the first worker wrote some rows');
      // Freeze its writes with a table lock: it goes on reading, so it holds delivered entries
      // when it dies, as a worker that crashed mid-batch would.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      await waitFor(async () => (await pendingCount(redis.client)) > 0, 30_000, 'the first worker holds entries');
      child.kill('SIGKILL');
      await exited(child);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const written = await countRows(db.pool, projectId);
    expect(written).toBeLessThan(total);
    const orphaned = await pendingCount(redis.client);
    expect(orphaned).toBeGreaterThan(0);
    const survivor = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url, env: { CLAIM_IDLE_MS: '500' } });
    try {
      await waitFor(
        async () => (await countRows(db.pool, projectId)) === total && (await pendingCount(redis.client)) === 0,
        60_000,
        `${total} rows and nothing pending`,
      );
      expect(await countRows(db.pool, projectId)).toBe(total);
      expect(await redis.client.xlen('eap:dlq')).toBe(0);
      expect((await survivor.worker.metrics.entriesClaimed.get()).values[0]?.value).toBe(orphaned);
      const { rows } = await db.pool.query('SELECT count(DISTINCT event_id)::int AS n FROM events WHERE project_id = $1', [projectId]);
      expect(rows[0].n).toBe(total);
    } finally {
      await survivor.stop();
    }
  });
});

describe('PostgreSQL restarted while events flow', () => {
  let dir: string;
  let postgres: LocalService;
  let redis: Awaited<ReturnType<typeof useSharedRedis>>;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eap-pg-fault-'));
    await chmod(dir, 0o755);
    // Durable settings (no `fast`): a crash must not lose committed rows.
    postgres = await startPostgres({ dataDir: join(dir, 'pg') });
    url = postgres.url;
    await createMigrator(url).up();
    redis = await useSharedRedis();
  });
  afterAll(async () => {
    await redis?.close();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps entries pending, reports not ready, never dead-letters them, and stores each once after the restart', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined);
    const {
      rows: [project],
    } = await pool.query("INSERT INTO projects (name) VALUES ('fault') RETURNING id");
    const projectId: string = project.id;
    const worker = await startTestWorker({ databaseUrl: url, redisUrl: redis.url, env: { WORKER_BATCH_SIZE: '100', RETRY_MAX_MS: '300' } });
    let appended = 0;
    const append = async (n: number) => {
      await appendEvents(
        redis.client,
        Array.from({ length: n }, () => streamEvent(projectId)),
        appended % 4,
      );
      appended += n;
    };
    try {
      await append(500);
      await waitFor(async () => (await countRows(pool, projectId)) === 500, 20_000, 'first 500 rows');
      await postgres.kill();
      await append(700);
      await waitFor(async () => (await fetch(`${worker.adminUrl}/readyz`)).status === 503, 20_000, 'worker reports not ready');
      await append(300);
      await postgres.start();
      await waitFor(
        async () => (await countRows(pool, projectId).catch(() => -1)) === appended,
        60_000,
        `${appended} rows after the restart`,
      );
      await waitFor(async () => (await pendingCount(redis.client)) === 0, 20_000, 'nothing pending');
      await waitFor(async () => (await fetch(`${worker.adminUrl}/readyz`)).status === 200, 20_000, 'ready again');
      expect(await countRows(pool, projectId)).toBe(1500);
      expect(await redis.client.xlen('eap:dlq')).toBe(0);
      expect((await worker.worker.metrics.writeRetries.get()).values[0]?.value).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await pool.end();
    }
  });
});

describe('Redis restarted while events flow', () => {
  let db: TestDatabase;
  let own: Awaited<ReturnType<typeof startOwnRedis>>;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    own = await startOwnRedis();
  });
  afterAll(async () => {
    await own?.close();
    await db?.drop();
  });

  it('stores exactly the events the API accepted: a Redis crash with AOF loses none', async () => {
    const project = await createTestProject(db.pool);
    const api = await startTestApi({ databaseUrl: db.url, redisUrl: own.url });
    const worker = await startTestWorker({ databaseUrl: db.url, redisUrl: own.url, env: { WORKER_BATCH_SIZE: '100' } });
    let accepted = 0;
    let refused = 0;
    let n = 0;
    const post = async () => {
      const events = Array.from({ length: 20 }, () => ({ event: 'tick', distinct_id: `u${n++}` }));
      const res = await api.send('/v1/batch', { key: project.write_key, body: { events } });
      if (res.status === 202) accepted += res.json.accepted;
      else {
        expect(res.status).toBe(503);
        refused++;
      }
    };
    try {
      for (let i = 0; i < 25; i++) await post();
      await own.server.kill();
      for (let i = 0; i < 5; i++) await post();
      await own.server.start();
      await waitFor(() => api.server.redis.status === 'ready', 20_000, 'API reconnected');
      for (let i = 0; i < 25; i++) await post();
      expect(refused).toBeGreaterThan(0);
      const check = new Redis(own.url);
      try {
        await waitFor(
          async () => (await countRows(db.pool, project.project_id)) === accepted && (await pendingCount(check)) === 0,
          60_000,
          `${accepted} rows`,
        );
        expect(await check.xlen('eap:dlq')).toBe(0);
      } finally {
        check.disconnect();
      }
      expect(await countRows(db.pool, project.project_id)).toBe(accepted);
      expect(accepted).toBe(50 * 20);
    } finally {
      await worker.stop();
      await api.stop();
    }
  });
});
