import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pruneEventIds } from '@eap/worker';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { waitUntilDrained } from './support/stream-fixtures.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, type TestApi, waitFor } from './support/test-api.ts';
import { startTestWorker, type TestWorker } from './support/test-worker.ts';

/**
 * Effectively once for real clients: SDKs resend an event with the same event_id and a new
 * sent_at (or none, and no timestamp), so each copy gets another stored time. Counted in rows.
 * And partitions: a day's partition is created while an analytics query holds `events` open.
 */

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let worker: TestWorker | undefined;
let project: Awaited<ReturnType<typeof createTestProject>>;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
});
beforeEach(async () => {
  await redis.client.flushdb();
  project = await createTestProject(db.pool, 'dedup');
  worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
});
afterEach(async () => {
  await worker?.stop();
});
afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

async function rowsOf(eventId: string): Promise<{ timestamp: Date; sent_at: Date | null }[]> {
  const { rows } = await db.pool.query('SELECT "timestamp", sent_at FROM events WHERE project_id = $1 AND event_id = $2', [
    project.project_id,
    eventId,
  ]);
  return rows;
}

const drained = () => waitUntilDrained(redis.client);

async function send(body: unknown) {
  const answer = await api.send('/v1/batch', { key: project.write_key, body });
  expect(answer.status).toBe(202);
  return answer.json as { accepted: number; rejected: unknown[] };
}

describe('retries with the same event_id', () => {
  it('are stored once whatever sent_at they carry, keeping the first copy’s time', async () => {
    const now = Date.now();
    const event = { event: 'purchase', distinct_id: 'u1', event_id: 'retry-with-sent-at', timestamp: new Date(now - 60_000).toISOString() };
    // The first attempt: the client clock is 5 s ahead.
    expect(await send({ sent_at: new Date(now + 5_000).toISOString(), events: [event] })).toMatchObject({ accepted: 1 });
    await waitFor(async () => (await rowsOf(event.event_id)).length === 1, 20_000, 'the first copy stored');
    const [first] = await rowsOf(event.event_id);
    // Two retries, each with a new sent_at (as SDKs do), one in its own request and one twice in a batch.
    expect(await send({ sent_at: new Date(now + 65_000).toISOString(), events: [event] })).toMatchObject({ accepted: 1 });
    expect(await send({ sent_at: new Date(now + 125_000).toISOString(), events: [event, event] })).toMatchObject({ accepted: 2 });
    await drained();
    const stored = await rowsOf(event.event_id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.timestamp.getTime()).toBe(first!.timestamp.getTime());
  });

  it('are stored once without a timestamp, although each copy gets its own receive time', async () => {
    const event = { event: 'signup', distinct_id: 'u2', event_id: 'retry-without-timestamp' };
    await send({ events: [event] });
    await waitFor(async () => (await rowsOf(event.event_id)).length === 1, 20_000, 'the first copy stored');
    await new Promise((r) => setTimeout(r, 20));
    await send({ events: [event] });
    await send({ events: [event, { ...event }] });
    await drained();
    expect(await rowsOf(event.event_id)).toHaveLength(1);
    // Another project may use the same id: it is another event.
    const other = await createTestProject(db.pool, 'dedup-other');
    expect((await api.send('/v1/batch', { key: other.write_key, body: { events: [event] } })).status).toBe(202);
    await waitFor(
      async () => Number((await db.pool.query('SELECT count(*) AS n FROM events WHERE event_id = $1', [event.event_id])).rows[0].n) === 2,
      20_000,
      'one row per project',
    );
  });

  it('are forgotten after the dedup window, by chunks, leaving recent ids', async () => {
    await db.pool.query(
      `INSERT INTO event_ids (project_id, event_id, "timestamp", first_seen)
       SELECT $1::uuid, 'old-' || g, now(), now() - interval '8 days' FROM generate_series(1, 25000) g
       UNION ALL SELECT $1::uuid, 'recent-' || g, now(), now() - interval '6 days' FROM generate_series(1, 10) g`,
      [project.project_id],
    );
    expect(await pruneEventIds(db.pool, 7)).toBe(25_000);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM event_ids WHERE project_id = $1', [project.project_id]);
    expect(rows[0].n).toBe(10);
  });
});

describe('partitions', () => {
  it('are created for 60 past days while an analytics query holds events open, without waiting for it', { timeout: 120_000 }, async () => {
    const reader = await db.pool.connect();
    try {
      // An open transaction that has read `events` holds ACCESS SHARE on it until it ends.
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM events');
      const day = 86_400_000;
      const events = Array.from({ length: 60 }, (_, i) => ({
        event: 'backfill',
        distinct_id: `u${i}`,
        timestamp: new Date(Date.now() - (i + 20) * day).toISOString(),
      }));
      expect(await send({ events })).toMatchObject({ accepted: 60 });
      await waitFor(
        async () =>
          Number((await db.pool.query('SELECT count(*) AS n FROM events WHERE project_id = $1', [project.project_id])).rows[0].n) === 60,
        // Normally well under a second; the bound leaves room for a machine busy with the
        // other suites (once past 30 s there). A worker that waited for the reader's lock would
        // still time out: the reader stays open until after the count.
        90_000,
        '60 events on 60 new days stored while the reader is open',
      );
      const { rows } = await reader.query('SELECT count(*)::int AS n FROM pg_locks WHERE pid = pg_backend_pid() AND granted');
      expect(rows[0].n).toBeGreaterThan(0);
      await reader.query('COMMIT');
    } finally {
      reader.release();
    }
  });
});
