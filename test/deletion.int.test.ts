import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DLQ_STREAM,
  decodeStreamEvents,
  encodeStreamEntry,
  encodeStreamEntryOf,
  MAX_STREAM_ENTRY_BYTES,
  streamEntryDataOf,
  streamKey,
} from '@eap/core';
import {
  createDeadLetterRemoval,
  createPipelineDrain,
  createProject,
  type CreatedProject,
  deletePerson,
  deleteProject,
  distinctIdHash,
} from '@eap/db';
import { createDeadLetterQueue, type DeadLetter } from '@eap/worker';
import { DeletionReceipt } from '../services/api/src/deletion.schemas.ts';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { startTestApi, TEST_ADMIN_TOKEN, type TestApi } from './support/test-api.ts';
import { startTestWorker, type TestWorker } from './support/test-worker.ts';

// Deletion against real PostgreSQL (and Redis for events still in the streams): every trace of a
// person or a project goes, the rollups stay equal to a recount from events, nothing else is
// touched, and ingest keeps writing while a large deletion runs.

const TABLES = ['events', 'event_ids', 'event_counts_hourly', 'event_user_days', 'event_users_daily', 'persons', 'person_distinct_ids'];

let seq = 0;

/** Inserts events (and their dedup rows) as the worker does; the rollup trigger counts them. */
async function insertEvents(
  db: pg.Pool | pg.Client,
  projectId: string,
  events: { event: string; user: string; at: string; bot?: boolean }[],
): Promise<void> {
  for (const day of new Set(events.map((e) => e.at.slice(0, 10)))) await db.query('SELECT eap_ensure_event_partition($1::date)', [day]);
  const ids = events.map(() => `del-${process.pid}-${seq++}`);
  await db.query(`INSERT INTO event_ids (project_id, event_id, "timestamp") SELECT $1, * FROM unnest($2::text[], $3::timestamptz[])`, [
    projectId,
    ids,
    events.map((e) => e.at),
  ]);
  await db.query(
    `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at, is_bot)
     SELECT $1, id, ev, who, at, at, bot FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::boolean[]) AS t(id, ev, who, at, bot)`,
    [projectId, ids, events.map((e) => e.event), events.map((e) => e.user), events.map((e) => e.at), events.map((e) => e.bot ?? false)],
  );
}

/** A person row and its distinct-id links, as the persons trigger would leave them. */
async function insertPerson(db: pg.Pool, projectId: string, distinctIds: string[]): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO persons (project_id, properties, is_identified, first_seen, last_seen)
     VALUES ($1, '{"email":"someone@example.com"}', true, now(), now()) RETURNING id`,
    [projectId],
  );
  const personId = rows[0]!.id;
  await db.query('INSERT INTO person_distinct_ids (project_id, distinct_id, person_id) SELECT $1, d, $2 FROM unnest($3::text[]) d', [
    projectId,
    personId,
    distinctIds,
  ]);
  return personId;
}

/** Rows per table of one project (and optionally only those of some distinct ids). */
async function rowCounts(db: pg.Pool, projectId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [...TABLES, 'api_keys']) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1`, [projectId]);
    counts[table] = rows[0]!.n;
  }
  return counts;
}

async function rowsOf(db: pg.Pool, projectId: string, distinctIds: string[]) {
  const one = async (sql: string) => (await db.query<{ n: number }>(sql, [projectId, distinctIds])).rows[0]!.n;
  return {
    events: await one('SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND distinct_id = ANY($2)'),
    bots: await one('SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND distinct_id = ANY($2) AND is_bot'),
    event_user_days: await one('SELECT count(*)::int AS n FROM event_user_days WHERE project_id = $1 AND distinct_id = ANY($2)'),
    person_distinct_ids: await one('SELECT count(*)::int AS n FROM person_distinct_ids WHERE project_id = $1 AND distinct_id = ANY($2)'),
  };
}

/** Differences between the rollups and a recount of them from events (empty when exact). */
async function rollupDrift(db: pg.Pool): Promise<unknown[]> {
  const { rows } = await db.query(`
    WITH hourly AS (SELECT project_id, event, hour, sum(events)::bigint AS n FROM event_counts_hourly GROUP BY 1, 2, 3),
    hourly_recount AS (
      SELECT project_id, event, date_trunc('hour', "timestamp", 'UTC') AS hour, count(*)::bigint AS n FROM events WHERE NOT is_bot GROUP BY 1, 2, 3),
    days AS (SELECT project_id, event, day, distinct_id, first_at FROM event_user_days),
    days_recount AS (
      SELECT project_id, event, ("timestamp" AT TIME ZONE 'UTC')::date AS day, distinct_id, min("timestamp") AS first_at
      FROM events WHERE NOT is_bot GROUP BY 1, 2, 3, 4),
    daily AS (SELECT project_id, event, day, sum(users)::bigint AS n FROM event_users_daily GROUP BY 1, 2, 3),
    daily_recount AS (SELECT project_id, event, day, count(*)::bigint AS n FROM days_recount GROUP BY 1, 2, 3)
    SELECT 'hourly' AS rollup, * FROM (SELECT * FROM hourly EXCEPT SELECT * FROM hourly_recount) a
    UNION ALL SELECT 'hourly missing', * FROM (SELECT * FROM hourly_recount EXCEPT SELECT * FROM hourly) b
    UNION ALL SELECT 'daily', * FROM (SELECT * FROM daily EXCEPT SELECT * FROM daily_recount) c
    UNION ALL SELECT 'daily missing', * FROM (SELECT * FROM daily_recount EXCEPT SELECT * FROM daily) d`);
  const days = await db.query(`
    WITH days_recount AS (
      SELECT project_id, event, ("timestamp" AT TIME ZONE 'UTC')::date AS day, distinct_id, min("timestamp") AS first_at
      FROM events WHERE NOT is_bot GROUP BY 1, 2, 3, 4)
    (SELECT 'user day', project_id, event, day, distinct_id, first_at FROM event_user_days EXCEPT SELECT 'user day', * FROM days_recount)
    UNION ALL
    (SELECT 'user day missing', * FROM days_recount EXCEPT SELECT 'user day missing', project_id, event, day, distinct_id, first_at FROM event_user_days)`);
  const nonPositive = await db.query(
    'SELECT * FROM event_counts_hourly WHERE events <= 0 UNION ALL SELECT * FROM event_users_daily WHERE users <= 0',
  );
  return [...rows, ...days.rows, ...nonPositive.rows];
}

/** Events of `users` on several days and hours, some bots, written by several sessions (so several rollup slots). */
function activity(users: string[], days: string[]) {
  const events: { event: string; user: string; at: string; bot?: boolean }[] = [];
  for (const user of users)
    for (const day of days)
      for (const [i, hour] of ['08', '08', '13', '21'].entries()) {
        events.push({ event: i % 2 ? 'page_view' : 'signup', user, at: `${day}T${hour}:${String(10 + i).padStart(2, '0')}:00.000Z` });
      }
  events.push({ event: 'page_view', user: users[0]!, at: `${days[0]}T09:00:00.000Z`, bot: true });
  return events;
}

/** Inserts `events` in four parts, each from its own session, so the rollups have several slots. */
async function insertFromSessions(db: TestDatabase, projectId: string, events: Parameters<typeof insertEvents>[2]): Promise<void> {
  const parts = [0, 1, 2, 3].map((k) => events.filter((_, i) => i % 4 === k));
  await Promise.all(
    parts.map(async (part) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await insertEvents(client, projectId, part);
      } finally {
        await client.end();
      }
    }),
  );
}

const DAYS = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-05'];

describe('deletion in PostgreSQL', () => {
  let db: TestDatabase;
  let a: CreatedProject;
  let b: CreatedProject;
  let personId: string;
  const personIds = ['anon-1', 'user-1@example.com', 'device-2'];

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    a = await createProject(db.pool, 'a');
    b = await createProject(db.pool, 'b');
    personId = await insertPerson(db.pool, a.project_id, personIds);
    await insertPerson(db.pool, a.project_id, ['other-1']);
    // The person's ids, another person of the same project on the same hours, and the same
    // distinct id in another project.
    await insertFromSessions(db, a.project_id, activity([...personIds, 'other-1', 'solo-1'], DAYS));
    await insertFromSessions(db, b.project_id, activity(['user-1@example.com', 'b-2'], DAYS));
  });
  afterAll(async () => db?.drop());

  it('removes every trace of all distinct ids of a person, keeps the rollups exact and the rest untouched', async () => {
    expect(await rollupDrift(db.pool)).toEqual([]);
    const before = await rowsOf(db.pool, a.project_id, personIds);
    const aBefore = await rowCounts(db.pool, a.project_id);
    const bBefore = await rowCounts(db.pool, b.project_id);
    const othersBefore = await rowsOf(db.pool, a.project_id, ['other-1', 'solo-1']);
    expect(before.events).toBe(DAYS.length * 4 * 3 + 1);

    // Small batches, and the rollups recounted after each: exact between batches too.
    const drift: unknown[] = [];
    const result = await deletePerson(db.pool, a.project_id, 'device-2', {
      batchSize: 7,
      onProgress: async () => void drift.push(...(await rollupDrift(db.pool))),
    });
    expect(drift).toEqual([]);
    expect(result.status).toBe('deleted');
    const receipt = result.status === 'deleted' ? result.receipt : undefined!;
    expect(DeletionReceipt.parse(receipt)).toEqual(receipt);
    expect(receipt).toMatchObject({
      kind: 'person',
      project_id: a.project_id,
      person_id: personId,
      distinct_ids: 3,
      pipeline: null,
      dlq_entries: null,
      dlq_unreadable: null,
      keys_revoked: 0,
    });
    expect(receipt.removed).toMatchObject({
      events: before.events,
      event_ids: before.events,
      event_user_days: before.event_user_days,
      persons: 1,
      person_distinct_ids: 3,
      api_keys: 0,
      projects: 0,
    });
    // Non-bot events are what the hourly counts held.
    expect(receipt.subtracted.event_counts_hourly).toBe(before.events - before.bots);
    expect(Date.parse(receipt.completed_at)).toBeGreaterThanOrEqual(Date.parse(receipt.requested_at));

    expect(await rowsOf(db.pool, a.project_id, personIds)).toEqual({ events: 0, bots: 0, event_user_days: 0, person_distinct_ids: 0 });
    expect((await db.pool.query('SELECT 1 FROM persons WHERE id = $1', [personId])).rowCount).toBe(0);
    expect(await rollupDrift(db.pool)).toEqual([]);
    expect(await rowsOf(db.pool, a.project_id, ['other-1', 'solo-1'])).toEqual(othersBefore);
    expect(await rowCounts(db.pool, b.project_id)).toEqual(bBefore);
    const aAfter = await rowCounts(db.pool, a.project_id);
    expect(aAfter.events).toBe(aBefore.events! - before.events);
    expect(aAfter.event_ids).toBe(aBefore.event_ids! - before.events);
    expect(aAfter.persons).toBe(aBefore.persons! - 1);
    expect(aAfter.event_counts_hourly).toBe(aBefore.event_counts_hourly! - receipt.removed.event_counts_hourly);
    expect(aAfter.event_users_daily).toBe(aBefore.event_users_daily! - receipt.removed.event_users_daily);

    // The receipt is kept, naming the distinct ids only by hash.
    const stored = await db.pool.query('SELECT receipt, subject_hashes, completed_at FROM deletions WHERE id = $1', [receipt.deletion_id]);
    expect(stored.rows[0].receipt).toEqual(receipt);
    expect(JSON.stringify(stored.rows[0])).not.toContain('example.com');
    expect(stored.rows[0].subject_hashes).toContainEqual(distinctIdHash(a.project_id, 'user-1@example.com'));
  });

  it('a second deletion of any of the ids answers a receipt with zero counts', async () => {
    const again = await deletePerson(db.pool, a.project_id, 'user-1@example.com');
    expect(again.status).toBe('deleted');
    if (again.status !== 'deleted') return;
    expect(Object.values(again.receipt.removed).every((n) => n === 0)).toBe(true);
    expect(again.receipt.subtracted).toEqual({ event_counts_hourly: 0, event_users_daily: 0 });
    expect(again.receipt.person_id).toBeNull();
  });

  it('a distinct id without a person is a person of its own', async () => {
    const { events } = await rowsOf(db.pool, a.project_id, ['solo-1']);
    const result = await deletePerson(db.pool, a.project_id, 'solo-1');
    expect(result.status === 'deleted' && result.receipt).toMatchObject({
      person_id: null,
      distinct_ids: 1,
      removed: { events, persons: 0 },
    });
    expect((await rowsOf(db.pool, a.project_id, ['solo-1'])).events).toBe(0);
    expect(await rollupDrift(db.pool)).toEqual([]);
  });

  it('unknown projects and distinct ids are not found', async () => {
    expect(await deletePerson(db.pool, a.project_id, 'never-seen')).toEqual({ status: 'not_found', what: 'person' });
    expect(await deletePerson(db.pool, '00000000-0000-4000-8000-000000000000', 'anon-1')).toEqual({ status: 'not_found', what: 'project' });
    expect(await deleteProject(db.pool, '00000000-0000-4000-8000-000000000000')).toEqual({ status: 'not_found', what: 'project' });
  });

  it('deletes a project: keys revoked and removed, every row of it gone, the other project untouched', async () => {
    const before = await rowCounts(db.pool, a.project_id);
    const bBefore = await rowCounts(db.pool, b.project_id);
    const result = await deleteProject(db.pool, a.project_id, { batchSize: 5 });
    expect(result.status).toBe('deleted');
    if (result.status !== 'deleted') return;
    expect(DeletionReceipt.parse(result.receipt)).toEqual(result.receipt);
    expect(result.receipt).toMatchObject({ kind: 'project', keys_revoked: 2, person_id: null });
    const { person_deletion_receipts, projects, ...perTable } = result.receipt.removed;
    expect(perTable).toEqual(before);
    expect(projects).toBe(1);
    expect(person_deletion_receipts).toBe(3);
    expect(Object.values(await rowCounts(db.pool, a.project_id)).every((n) => n === 0)).toBe(true);
    expect((await db.pool.query('SELECT 1 FROM projects WHERE id = $1', [a.project_id])).rowCount).toBe(0);
    expect(await rowCounts(db.pool, b.project_id)).toEqual(bBefore);
    expect(await rollupDrift(db.pool)).toEqual([]);
    // Only the project's own receipt stays.
    const kept = await db.pool.query('SELECT kind FROM deletions WHERE project_id = $1', [a.project_id]);
    expect(kept.rows).toEqual([{ kind: 'project' }]);

    // Deleting it again removes what arrived since (here nothing): zero counts, not an error.
    const again = await deleteProject(db.pool, a.project_id);
    expect(again.status === 'deleted' && Object.values(again.receipt.removed).every((n) => n === 0)).toBe(true);
  });

  it('ingest into other projects keeps writing while a large deletion runs', async () => {
    const big = await createProject(db.pool, 'big');
    const events = Array.from({ length: 6000 }, (_, i) => ({
      event: `e${i % 5}`,
      user: `u${i % 300}`,
      at: `2026-03-0${1 + (i % 3)}T${String(i % 24).padStart(2, '0')}:00:00.000Z`,
    }));
    await insertEvents(db.pool, big.project_id, events);
    await insertPerson(db.pool, big.project_id, ['u1', 'u2']);
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let insert: Promise<unknown> | undefined;
    let insertedBeforeEnd = false;
    let batches = 0;
    try {
      const result = await deleteProject(db.pool, big.project_id, {
        batchSize: 200,
        async onProgress() {
          batches++;
          // Started while the deletion runs; awaited a few batches later. A deletion holding a
          // lock that INSERT waits for across its batches would never get past this point.
          if (batches === 2)
            insert = insertEvents(writer, b.project_id, [{ event: 'during', user: 'b-9', at: '2026-03-02T10:00:00.000Z' }]);
          if (batches === 6) {
            await insert;
            insertedBeforeEnd = true;
          }
        },
      });
      expect(result.status === 'deleted' && result.receipt.removed.events).toBe(6000);
    } finally {
      await writer.end();
    }
    expect(insertedBeforeEnd).toBe(true);
    expect(batches).toBeGreaterThan(6);
    const during = await db.pool.query("SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND event = 'during'", [b.project_id]);
    expect(during.rows[0].n).toBe(1);
    expect(await rollupDrift(db.pool)).toEqual([]);
  });
});

describe('deletion of events still in the streams', () => {
  let db: TestDatabase;
  let redis: Awaited<ReturnType<typeof useSharedRedis>>;
  let api: TestApi;
  let worker: TestWorker | undefined;
  let project: CreatedProject;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: true });
    redis = await useSharedRedis();
    api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
    worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
    project = await createProject(db.pool, 'streams');
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    await redis?.close();
    await db?.drop();
  });

  const now = () => new Date().toISOString();
  const send = (events: unknown[]) => api.send('/v1/batch', { key: project.write_key, body: { events } });
  // As curl -X DELETE sends it: no body, no content type.
  async function del(path: string, token = TEST_ADMIN_TOKEN) {
    const response = await fetch(api.baseUrl + path, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response shapes
    return { status: response.status, json: (await response.json()) as any };
  }

  it('DELETE waits for the accepted events of the person, then removes them all', async () => {
    const events = Array.from({ length: 50 }, (_, i) => ({
      event: 'click',
      distinct_id: i % 2 ? 'stream-user' : 'other',
      timestamp: now(),
    }));
    const sent = await send(events);
    expect(sent.status).toBe(202);
    // No waiting here: the deletion itself waits until the worker has written them.
    const response = await del(`/v1/projects/${project.project_id}/persons/stream-user`);
    expect(response.status).toBe(200);
    const receipt = DeletionReceipt.parse(response.json);
    expect(receipt.pipeline?.drained).toBe(true);
    expect(receipt.removed.events).toBe(25);
    const left = await db.pool.query("SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND distinct_id = 'stream-user'", [
      project.project_id,
    ]);
    expect(left.rows[0].n).toBe(0);
  });

  it('says when the pipeline was not drained; deleting again after the worker wrote them removes the rest', async () => {
    await worker!.stop();
    worker = undefined;
    expect((await send([{ event: 'late', distinct_id: 'late-user', timestamp: now() }])).status).toBe(202);
    await db.pool.query(
      "INSERT INTO person_distinct_ids (project_id, distinct_id, person_id) VALUES ($1, 'late-user', gen_random_uuid())",
      [project.project_id],
    );
    const waitForPipeline = createPipelineDrain(redis.client, { shards: api.config.STREAM_SHARDS, timeoutMs: 300, pollMs: 50 });
    const first = await deletePerson(db.pool, project.project_id, 'late-user', { waitForPipeline });
    expect(first.status === 'deleted' && first.receipt.pipeline).toMatchObject({ drained: false });
    expect(first.status === 'deleted' && first.receipt.pipeline?.reason).toMatch(/gave up after 300 ms/);

    worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
    const second = await deletePerson(db.pool, project.project_id, 'late-user', {
      waitForPipeline: createPipelineDrain(redis.client, { shards: api.config.STREAM_SHARDS, timeoutMs: 20_000 }),
    });
    expect(second.status === 'deleted' && second.receipt).toMatchObject({ pipeline: { drained: true }, removed: { events: 1 } });
  });

  let letterSeq = 0;
  /**
   * A dead letter of one event, as the worker writes it (the original entry's fields kept as they
   * were): of a version 1 entry (the whole event as JSON, what APIs before version 2 wrote), or of
   * the current version with `current`.
   */
  function letterOf(data: string, reason: DeadLetter['reason'] = 'db_rejected', current = false): DeadLetter {
    const fields = current ? encodeStreamEntry(data) : ['v', '1', 'data', data];
    return {
      entry: { shard: 0, key: streamKey(0), id: `${Date.now()}-${letterSeq++}`, fields },
      reason,
      error: 'refused in the test',
    };
  }
  const eventOf = (projectId: string, distinctId: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      project_id: projectId,
      event_id: `dlq-${letterSeq}`,
      event: 'poison',
      distinct_id: distinctId,
      timestamp: now(),
      client_timestamp: null,
      sent_at: null,
      received_at: now(),
      session_id: null,
      properties: { email: 'dlq-user@example.com' },
      context: null,
      ...extra,
    });
  /** The `data` field of every letter left in the DLQ. */
  async function lettersLeft(): Promise<string[]> {
    const entries = (await redis.client.xrange(DLQ_STREAM, '-', '+')) as [string, string[]][];
    return entries.map(([, fields]) => fields[fields.indexOf('data') + 1]!);
  }

  it("DELETE removes the person's letters from the dead-letter stream and keeps everyone else's", async () => {
    const other = await createProject(db.pool, 'streams-other');
    await db.pool.query(
      `INSERT INTO person_distinct_ids (project_id, distinct_id, person_id)
       SELECT $1, d, '7d1b2c3e-0000-4000-8000-00000000d1a9' FROM unnest(ARRAY['dlq-user', 'dlq-user-2']) d`,
      [project.project_id],
    );
    const undecodable = `{"project_id":"${project.project_id}","distinct_id":"dlq-user" cut off`;
    const kept = [eventOf(project.project_id, 'dlq-other'), eventOf(other.project_id, 'dlq-user'), undecodable];
    const { deadLetter } = createDeadLetterQueue(redis.client, { maxEntries: 1000 });
    await deadLetter([
      letterOf(eventOf(project.project_id, 'dlq-user')),
      letterOf(kept[0]!),
      // Failed the event schema: still the person's, and still personal data.
      letterOf(eventOf(project.project_id, 'dlq-user-2', { timestamp: 'yesterday' }), 'decode_error'),
      letterOf(kept[1]!),
      letterOf(undecodable, 'decode_error'),
      letterOf(eventOf(project.project_id, 'dlq-user-2'), 'max_deliveries'),
      letterOf(streamEntryDataOf(JSON.parse(eventOf(project.project_id, 'dlq-user'))), 'db_rejected', true),
    ]);
    expect(await redis.client.xlen(DLQ_STREAM)).toBe(7);

    const response = await del(`/v1/projects/${project.project_id}/persons/dlq-user-2`);
    expect(response.status).toBe(200);
    const receipt = DeletionReceipt.parse(response.json);
    expect(receipt).toMatchObject({ distinct_ids: 2, dlq_entries: 4, dlq_unreadable: 1 });
    expect(await lettersLeft()).toEqual(kept);

    const again = await deletePerson(db.pool, project.project_id, 'dlq-user', {
      removeDeadLetters: createDeadLetterRemoval(redis.client),
    });
    expect(again.status === 'deleted' && again.receipt).toMatchObject({ dlq_entries: 0, dlq_unreadable: 1 });
    expect(await lettersLeft()).toEqual(kept);
  });

  it("takes the person's events out of a letter that holds several people's, keeping the others' in it", async () => {
    const before = new Set(((await redis.client.xrange(DLQ_STREAM, '-', '+')) as [string, string[]][]).map(([id]) => id));
    await db.pool.query(
      `INSERT INTO person_distinct_ids (project_id, distinct_id, person_id)
       SELECT $1, 'dlq-several', '7d1b2c3e-0000-4000-8000-00000000d1b0' ON CONFLICT DO NOTHING`,
      [project.project_id],
    );
    // Whole entries of a request's events, as a worker that cannot read an entry dead-letters them.
    // Not for their version: the running worker's maintenance (every 200 ms here) replays letters
    // refused for a version it reads, and took these out of the DLQ before the deletion scanned it.
    const refused = `stream entry data is ${MAX_STREAM_ENTRY_BYTES + 1} characters; the limit is ${MAX_STREAM_ENTRY_BYTES}`;
    const lines = (distinctId: string) => streamEntryDataOf(JSON.parse(eventOf(project.project_id, distinctId)));
    const mixed = [lines('dlq-several'), lines('dlq-stays'), lines('dlq-several'), lines('dlq-stays-too')];
    const entryOf = (events: string[]): DeadLetter => ({
      entry: {
        shard: 2,
        key: streamKey(2),
        id: `${Date.now()}-${letterSeq++}`,
        fields: encodeStreamEntryOf(events),
      },
      reason: 'decode_error',
      error: refused,
    });
    const { deadLetter } = createDeadLetterQueue(redis.client, { maxEntries: 1000 });
    const mixedLetter = entryOf(mixed);
    await deadLetter([mixedLetter, entryOf([lines('dlq-several'), lines('dlq-several')])]);

    const response = await del(`/v1/projects/${project.project_id}/persons/dlq-several`);
    expect(response.status).toBe(200);
    // The unreadable letter of the test before is still there, and counted.
    expect(DeletionReceipt.parse(response.json)).toMatchObject({ dlq_entries: 4, dlq_unreadable: 1 });
    const all = (await redis.client.xrange(DLQ_STREAM, '-', '+')) as [string, string[]][];
    expect(all.filter(([id]) => before.has(id))).toHaveLength(before.size);
    const left = all.filter(([id]) => !before.has(id));
    expect(left).toHaveLength(1);
    const fields = new Map<string, string>();
    for (let i = 0; i < left[0]![1].length; i += 2) fields.set(left[0]![1][i]!, left[0]![1][i + 1]!);
    // The same letter without the person's events: what it says and where it came from kept.
    expect(Object.fromEntries(fields)).toMatchObject({
      reason: 'decode_error',
      error: refused,
      original_id: mixedLetter.entry.id,
      shard: '2',
      v: '3',
      n: '2',
      data: `${mixed[1]}\n${mixed[3]}`,
    });
    // Still a letter the replay reads.
    expect(decodeStreamEvents(left[0]![1]).map((e) => e.distinct_id)).toEqual(['dlq-stays', 'dlq-stays-too']);
    // The DLQ as the tests below expect it.
    await redis.client.xdel(DLQ_STREAM, left[0]![0]);
  });

  it('admin routes: 401 without the token, 400 for a malformed project id, 404 for unknown ones', async () => {
    expect((await del(`/v1/projects/${project.project_id}`, 'wrong-token-0123456789')).status).toBe(401);
    const bad = await del('/v1/projects/not-a-uuid/persons/x');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_REQUEST');
    expect((await del('/v1/projects/not-a-uuid')).status).toBe(400);
    expect((await del(`/v1/projects/${project.project_id}/persons/nobody`)).json.error.code).toBe('NOT_FOUND');
    expect((await del('/v1/projects/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('DELETE /v1/projects/:id revokes the keys: ingest with them stops', async () => {
    const response = await del(`/v1/projects/${project.project_id}`);
    expect(response.status).toBe(200);
    const receipt = DeletionReceipt.parse(response.json);
    expect(receipt).toMatchObject({ kind: 'project', keys_revoked: 2, removed: { projects: 1, api_keys: 2 } });
    // The project's letters go, whoever they belong to; the other project's and the unreadable one stay.
    expect(receipt).toMatchObject({ dlq_entries: 1, dlq_unreadable: 1 });
    expect((await lettersLeft()).map((data) => data.includes(project.project_id))).toEqual([false, true]);
    const count = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [project.project_id]);
    expect(count.rows[0].n).toBe(0);
    // A fresh API process (no cached key) refuses the deleted project's key.
    const fresh = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
    try {
      expect((await fresh.send('/v1/batch', { key: project.write_key, body: { events: [{ event: 'x', distinct_id: 'y' }] } })).status).toBe(
        401,
      );
    } finally {
      await fresh.stop();
    }
    expect((await del(`/v1/projects/${project.project_id}`)).status).toBe(200);
  });
});
