import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StreamEvent, streamRowOf } from '@eap/core';
import { createEventWriter, type EventWriter } from '@eap/worker';
import { createTestProject } from './support/test-api.ts';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { streamEvent } from './support/stream-fixtures.ts';

/**
 * The worker's two write paths, counted in rows: a batch of new ids goes straight in by COPY; a
 * batch holding an id stored before (a redelivery, a client retry) or twice goes through the
 * dedup statement. Both must store the same rows and keep the rollups and persons the same.
 */

let db: TestDatabase;
let projectId: string;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  await db.pool.query('SELECT eap_ensure_event_partitions(current_date - 1, current_date + 1)');
});
beforeEach(async () => {
  projectId = (await createTestProject(db.pool)).project_id;
});
afterAll(async () => {
  await db?.drop();
});

const count = async (table: string, project = projectId) =>
  Number((await db.pool.query(`SELECT count(*) AS n FROM ${table} WHERE project_id = $1`, [project])).rows[0].n);

const batch = (n: number, prefix: string, overrides: Partial<StreamEvent> = {}) =>
  Array.from({ length: n }, (_, i) => streamEvent(projectId, { event_id: `${prefix}-${i}`, distinct_id: `u${i % 7}`, ...overrides }));
/** Writes events as the worker does after decoding their entries. */
const writeEvents = (writer: EventWriter, events: readonly StreamEvent[]) => writer.write(events.map(streamRowOf));

describe('the event writer', () => {
  it('writes a batch of new ids directly, and the same batch again stores nothing', async () => {
    const writer = createEventWriter(db.pool);
    const events = batch(200, 'a');
    expect(await writeEvents(writer, events)).toEqual({ inserted: 200, path: 'direct' });
    expect(await count('events')).toBe(200);
    expect(await count('event_ids')).toBe(200);

    expect(await writeEvents(writer, events)).toEqual({ inserted: 0, path: 'dedup' });
    expect(await count('events')).toBe(200);
    expect(await count('event_ids')).toBe(200);
  });

  it('stores ids without their time on both paths (nothing reads it)', async () => {
    const writer = createEventWriter(db.pool);
    const stored = batch(30, 'first');
    expect(await writeEvents(writer, stored)).toMatchObject({ path: 'direct' });
    expect(await writeEvents(writer, [...stored, ...batch(30, 'second')])).toMatchObject({ inserted: 30, path: 'dedup' });
    const { rows } = await db.pool.query<{ ids: number; timed: number }>(
      'SELECT count(*)::int AS ids, count("timestamp")::int AS timed FROM event_ids WHERE project_id = $1',
      [projectId],
    );
    expect(rows[0]).toEqual({ ids: 60, timed: 0 });
  });

  it('stores only the new events of a batch that mixes stored and new ids', async () => {
    const writer = createEventWriter(db.pool);
    const stored = batch(100, 'old');
    await writeEvents(writer, stored);
    const mixed = [...batch(100, 'new'), ...stored].sort(() => Math.random() - 0.5);
    expect(await writeEvents(writer, mixed)).toEqual({ inserted: 100, path: 'dedup' });
    expect(await count('events')).toBe(200);
    // Right after a fallback the next new batch goes straight in again.
    expect(await writeEvents(writer, batch(50, 'next'))).toEqual({ inserted: 50, path: 'direct' });
    expect(await count('events')).toBe(250);
  });

  it('keeps the earliest copy of an id repeated within one batch', async () => {
    const writer = createEventWriter(db.pool);
    const now = Date.now();
    const late = streamEvent(projectId, { event_id: 'twice', timestamp: new Date(now - 1_000).toISOString() });
    const early = { ...late, timestamp: new Date(now - 60_000).toISOString() };
    expect(await writeEvents(writer, [late, ...batch(10, 'other'), early])).toEqual({ inserted: 11, path: 'dedup' });
    const { rows } = await db.pool.query('SELECT "timestamp" FROM events WHERE project_id = $1 AND event_id = $2', [projectId, 'twice']);
    expect(rows.map((r) => r.timestamp.getTime())).toEqual([now - 60_000]);
  });

  it('leaves no id behind when PostgreSQL rejects a row, so the batch can be written once fixed', async () => {
    const writer = createEventWriter(db.pool);
    const events = batch(20, 'bad');
    // jsonb refuses the NUL character.
    events[7] = { ...events[7]!, properties: { text: 'a\u0000b' } };
    await expect(writeEvents(writer, events)).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
    expect(await count('events')).toBe(0);
    expect(await count('event_ids')).toBe(0);
    events[7] = { ...events[7]!, properties: { text: 'ab' } };
    expect(await writeEvents(writer, events)).toEqual({ inserted: 20, path: 'direct' });
  });

  it('keeps the rollups and persons the same whichever path wrote the events', async () => {
    const direct = createEventWriter(db.pool);
    const dedupOnly = createEventWriter(db.pool, { direct: false });
    const other = (await createTestProject(db.pool)).project_id;
    const now = Date.now();
    const events = (project: string) =>
      Array.from({ length: 120 }, (_, i) =>
        streamEvent(project, {
          event_id: `e${i}`,
          event: i % 10 === 0 ? '$identify' : ['page_view', 'signup', 'purchase'][i % 3]!,
          distinct_id: `anon-${i % 9}`,
          timestamp: new Date(now - i * 60_000).toISOString(),
          properties: i % 10 === 0 ? { $anon_distinct_id: `anon-${i % 9}`, $set: { plan: `p${i}` } } : { i },
          is_bot: i % 17 === 0,
        }),
      ).map((e, i) => (i % 10 === 0 ? { ...e, distinct_id: `user-${i % 4}` } : e));
    expect(await writeEvents(direct, events(projectId))).toEqual({ inserted: 120, path: 'direct' });
    expect(await writeEvents(dedupOnly, events(other))).toEqual({ inserted: 120, path: 'dedup' });

    const summary = async (project: string) => ({
      hourly: (
        await db.pool.query(
          'SELECT event, hour, sum(events)::int AS n FROM event_counts_hourly WHERE project_id = $1 GROUP BY 1, 2 ORDER BY 1, 2',
          [project],
        )
      ).rows,
      userDays: (
        await db.pool.query('SELECT event, day, distinct_id, first_at FROM event_user_days WHERE project_id = $1 ORDER BY 1, 2, 3', [
          project,
        ])
      ).rows,
      dailyUsers: (
        await db.pool.query(
          'SELECT event, day, sum(users)::int AS n FROM event_users_daily WHERE project_id = $1 GROUP BY 1, 2 ORDER BY 1, 2',
          [project],
        )
      ).rows,
      persons: (
        await db.pool.query(
          `SELECT p.properties, p.is_identified, p.first_seen, p.last_seen, array_agg(d.distinct_id ORDER BY d.distinct_id) AS ids
           FROM persons p JOIN person_distinct_ids d ON d.project_id = p.project_id AND d.person_id = p.id
           WHERE p.project_id = $1 GROUP BY p.project_id, p.id ORDER BY ids`,
          [project],
        )
      ).rows,
    });
    const written = await summary(projectId);
    expect(written.hourly.reduce((n: number, r: { n: number }) => n + r.n, 0)).toBe(120 - 8); // 8 bot events
    expect(written.persons.length).toBeGreaterThan(0);
    expect(written.userDays.length).toBeGreaterThan(0);
    expect(written).toEqual(await summary(other));
  });
});
