import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertEvents } from './support/query-fixtures.ts';
import { createTestProject, waitFor } from './support/test-api.ts';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';

/**
 * Person maintenance by the trigger on `events` (migration 0005) against real PostgreSQL: events
 * are inserted straight into `events` (the trigger fires for any writer) or through the worker's
 * own writer where deduplication matters.
 */

let db: TestDatabase;
let project: string;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  await db.pool.query("SELECT eap_ensure_event_partitions('2026-04-01', '2026-04-10')");
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  project = (await createTestProject(db.pool, 'persons')).project_id;
});

interface Ev {
  event?: string;
  user: string;
  at: string;
  properties?: Record<string, unknown>;
  bot?: boolean;
  id?: string;
}

const at = (hhmm: string, day = '01') => `2026-04-${day}T${hhmm}:00.000Z`;

/** One INSERT statement (one batch) of events, on `client` (a pool by default). */
async function insert(events: Ev[], client: Pick<pg.Pool, 'query'> = db.pool, projectId = project): Promise<void> {
  const rows = events.map((e) => ({
    project_id: projectId,
    event_id: e.id ?? `p-${process.pid}-${seq++}`,
    event: e.event ?? 'page',
    distinct_id: e.user,
    timestamp: e.at,
    received_at: e.at,
    properties: e.properties ?? {},
    is_bot: e.bot ?? false,
  }));
  await client.query(
    `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at, properties, is_bot)
     SELECT project_id, event_id, event, distinct_id, "timestamp", received_at, properties, is_bot
     FROM jsonb_to_recordset($1::jsonb) AS r(project_id uuid, event_id text, event text, distinct_id text, "timestamp" timestamptz,
                                           received_at timestamptz, properties jsonb, is_bot boolean)`,
    [JSON.stringify(rows)],
  );
}

interface PersonRow {
  id: string;
  properties: Record<string, unknown>;
  is_identified: boolean;
  first_seen: string;
  last_seen: string;
  distinct_ids: string[];
}

/** The person of a distinct id (null when it has none). */
async function personOf(distinctId: string, projectId = project): Promise<PersonRow | null> {
  const { rows } = await db.pool.query<PersonRow>(
    `SELECT p.id, p.properties, p.is_identified, to_json(p.first_seen) #>> '{}' AS first_seen, to_json(p.last_seen) #>> '{}' AS last_seen,
            (SELECT array_agg(distinct_id ORDER BY distinct_id) FROM person_distinct_ids x WHERE x.project_id = p.project_id AND x.person_id = p.id) AS distinct_ids
     FROM person_distinct_ids d JOIN persons p ON p.project_id = d.project_id AND p.id = d.person_id
     WHERE d.project_id = $1 AND d.distinct_id = $2`,
    [projectId, distinctId],
  );
  return rows[0] ?? null;
}

const personCount = async () =>
  Number((await db.pool.query('SELECT count(*) FROM persons WHERE project_id = $1', [project])).rows[0].count);
const iso = (s: string | undefined) => (s === undefined ? undefined : new Date(s).toISOString());

describe('person properties', () => {
  it('applies $set, $set_once and $unset in event order, and creates persons only for person operations', async () => {
    await insert([
      { user: 'u1', at: at('10:00'), properties: { $set: { plan: 'free', name: 'Ann' }, $set_once: { source: 'ad' } } },
      { user: 'u1', at: at('10:05'), properties: { $set: { plan: 'pro' }, $set_once: { source: 'seo', first: 1 } } },
      { user: 'u1', at: at('10:06'), properties: { $unset: ['name'] } },
      { user: 'nobody', at: at('10:00') },
      // An $unset on an id without a person creates none.
      { user: 'ghost', at: at('10:00'), properties: { $unset: ['x'] } },
    ]);
    const person = await personOf('u1');
    expect(person?.properties).toEqual({ plan: 'pro', source: 'ad', first: 1 });
    expect(person?.is_identified).toBe(false);
    expect(person?.distinct_ids).toEqual(['u1']);
    expect(await personOf('nobody')).toBeNull();
    expect(await personOf('ghost')).toBeNull();
    expect(await personCount()).toBe(1);
  });

  it('keeps a newer value when an older $set or $unset arrives late', async () => {
    await insert([{ user: 'u1', at: at('12:00'), properties: { $set: { plan: 'pro', seats: 5 } } }]);
    await insert([{ user: 'u1', at: at('11:00'), properties: { $set: { plan: 'free', color: 'red' }, $unset: ['seats'] } }]);
    expect((await personOf('u1'))?.properties).toEqual({ plan: 'pro', seats: 5, color: 'red' });
    // A newer $unset wins over an older $set arriving after it.
    await insert([{ user: 'u1', at: at('13:00'), properties: { $unset: ['color'] } }]);
    await insert([{ user: 'u1', at: at('12:30'), properties: { $set: { color: 'blue' }, $set_once: { color: 'green' } } }]);
    expect((await personOf('u1'))?.properties).toEqual({ plan: 'pro', seats: 5 });
    // Within one batch, event time decides, not the order of rows.
    await insert([
      { user: 'u1', at: at('15:00'), properties: { $set: { plan: 'team' } } },
      { user: 'u1', at: at('14:00'), properties: { $set: { plan: 'free' } } },
    ]);
    expect((await personOf('u1'))?.properties.plan).toBe('team');
  });

  it('keeps first_seen and last_seen of every non-bot event of the person', async () => {
    await insert([{ user: 'u1', at: at('10:00'), properties: { $set: { a: 1 } } }]);
    await insert([
      { user: 'u1', at: at('09:00') },
      { user: 'u1', at: at('18:00') },
      { user: 'other', at: at('20:00') },
    ]);
    const person = await personOf('u1');
    expect([person?.first_seen, person?.last_seen].map(iso)).toEqual([iso(at('09:00')), iso(at('18:00'))]);
  });
});

describe('identify, alias and merges', () => {
  it('$identify links the anonymous id, brings its earlier events into first_seen and marks the person identified', async () => {
    await insert([{ user: 'anon-1', at: at('08:00') }]);
    await insert([
      { user: 'user-1', at: at('09:00'), event: '$identify', properties: { $anon_distinct_id: 'anon-1', $set: { email: 'a@x' } } },
    ]);
    const person = await personOf('anon-1');
    expect(person?.distinct_ids).toEqual(['anon-1', 'user-1']);
    expect(person?.is_identified).toBe(true);
    expect(person?.properties).toEqual({ email: 'a@x' });
    expect(iso(person!.first_seen)).toBe(iso(at('08:00')));
    expect(iso(person!.last_seen)).toBe(iso(at('09:00')));
  });

  it('merges the anonymous person into the user person: ids moved, user properties win, times combined', async () => {
    await insert([{ user: 'anon-2', at: at('07:00'), properties: { $set: { plan: 'free', referrer: 'ad' } } }]);
    await insert([{ user: 'user-2', at: at('09:00'), event: '$identify', properties: { $set: { plan: 'pro' } } }]);
    await insert([{ user: 'user-2', at: at('11:00') }]);
    const anonPerson = (await personOf('anon-2'))!.id;
    const userPerson = (await personOf('user-2'))!.id;
    expect(anonPerson).not.toBe(userPerson);
    await insert([{ user: 'user-2', at: at('10:00'), event: 'login', properties: { $anon_distinct_id: 'anon-2' } }]);
    const person = await personOf('anon-2');
    expect(person?.id).toBe(userPerson);
    expect(person?.distinct_ids).toEqual(['anon-2', 'user-2']);
    expect(person?.properties).toEqual({ plan: 'pro', referrer: 'ad' });
    expect([person?.first_seen, person?.last_seen].map(iso)).toEqual([iso(at('07:00')), iso(at('11:00'))]);
    expect((await db.pool.query('SELECT 1 FROM persons WHERE project_id = $1 AND id = $2', [project, anonPerson])).rowCount).toBe(0);
    // A later $set on the former anonymous id reaches the merged person.
    await insert([{ user: 'anon-2', at: at('12:00'), properties: { $set: { theme: 'dark' } } }]);
    expect((await personOf('user-2'))?.properties).toEqual({ plan: 'pro', referrer: 'ad', theme: 'dark' });
  });

  it('$create_alias links the alias to the person of the distinct id', async () => {
    await insert([{ user: 'user-3', at: at('10:00'), properties: { $set: { n: 1 } } }]);
    await insert([{ user: 'user-3', at: at('10:01'), event: '$create_alias', properties: { alias: 'crm-3' } }]);
    expect((await personOf('crm-3'))?.distinct_ids).toEqual(['crm-3', 'user-3']);
    expect((await personOf('crm-3'))?.is_identified).toBe(false);
  });

  it('never merges two identified persons: the link is skipped', async () => {
    await insert([
      { user: 'alice', at: at('10:00'), event: '$identify', properties: { $anon_distinct_id: 'device-1', $set: { name: 'Alice' } } },
    ]);
    await insert([{ user: 'bob', at: at('10:00'), event: '$identify', properties: { $set: { name: 'Bob' } } }]);
    // Bob logs in on Alice's device.
    await insert([{ user: 'bob', at: at('11:00'), event: '$identify', properties: { $anon_distinct_id: 'device-1' } }]);
    const alice = await personOf('alice');
    const bob = await personOf('bob');
    expect(alice?.distinct_ids).toEqual(['alice', 'device-1']);
    expect(bob?.distinct_ids).toEqual(['bob']);
    expect([alice?.properties, bob?.properties]).toEqual([{ name: 'Alice' }, { name: 'Bob' }]);
    // A user without a person, on the same device: a person of its own, the device stays Alice's.
    await insert([{ user: 'carol', at: at('12:00'), event: '$identify', properties: { $anon_distinct_id: 'device-1' } }]);
    expect((await personOf('carol'))?.distinct_ids).toEqual(['carol']);
    expect((await personOf('carol'))?.is_identified).toBe(true);
    expect((await personOf('device-1'))?.id).toBe(alice?.id);
  });
});

describe('what never counts', () => {
  it('a duplicate (same event_id, resent with another time) changes nothing', async () => {
    const [id] = await insertEvents(db.pool, project, [{ event: 'page', user: 'u1', at: at('10:00'), properties: { $set: { v: 1 } } }]);
    await insertEvents(db.pool, project, [{ id, event: 'page', user: 'u1', at: at('23:00'), properties: { $set: { v: 2 } } }]);
    const person = await personOf('u1');
    expect(person?.properties).toEqual({ v: 1 });
    expect(iso(person!.last_seen)).toBe(iso(at('10:00')));
  });

  it('a rolled-back batch leaves no person', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await insert([{ user: 'u1', at: at('10:00'), event: '$identify', properties: { $anon_distinct_id: 'a1', $set: { v: 1 } } }], client);
      expect(Number((await client.query('SELECT count(*) FROM persons WHERE project_id = $1', [project])).rows[0].count)).toBe(1);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await personCount()).toBe(0);
    expect(await personOf('a1')).toBeNull();
  });

  it('bot events never touch persons', async () => {
    await insert([{ user: 'crawler', at: at('10:00'), bot: true, properties: { $set: { v: 1 } } }]);
    expect(await personOf('crawler')).toBeNull();
    await insert([{ user: 'u1', at: at('10:00'), properties: { $set: { v: 1 } } }]);
    await insert([
      { user: 'u1', at: at('23:00'), bot: true, properties: { $set: { v: 2 } } },
      { user: 'u1', at: at('02:00'), bot: true, event: '$identify', properties: { $anon_distinct_id: 'a-bot' } },
    ]);
    const person = await personOf('u1');
    expect(person?.properties).toEqual({ v: 1 });
    expect([person?.first_seen, person?.last_seen].map(iso)).toEqual([iso(at('10:00')), iso(at('10:00'))]);
    expect(await personOf('a-bot')).toBeNull();
  });
});

describe('concurrent writers', () => {
  let a: pg.PoolClient;
  let b: pg.PoolClient;
  let bPid: number;
  beforeEach(async () => {
    a = await db.pool.connect();
    b = await db.pool.connect();
    bPid = (await b.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    return async () => {
      await a.query('ROLLBACK').catch(() => undefined);
      await b.query('ROLLBACK').catch(() => undefined);
      a.release();
      b.release();
    };
  });

  /** Resolves once the second writer waits for a lock. */
  function secondWaitsForLock(): Promise<void> {
    return waitFor(
      async () =>
        (await db.pool.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [bPid])).rowCount === 1,
      10_000,
      'the second writer waits for the first',
    );
  }

  it('two batches over the same persons in opposite orders both commit, no update lost', async () => {
    await insert([
      { user: 'p1', at: at('10:00'), properties: { $set: { n: 1 } } },
      { user: 'p2', at: at('10:00'), properties: { $set: { n: 2 } } },
    ]);
    await a.query('BEGIN');
    await b.query('BEGIN');
    await insert(
      [
        { user: 'p2', at: at('11:00') },
        { user: 'p1', at: at('12:00') },
      ],
      a,
    );
    const second = insert(
      [
        { user: 'p1', at: at('13:00') },
        { user: 'p2', at: at('09:00') },
      ],
      b,
    );
    await secondWaitsForLock();
    await a.query('COMMIT');
    await second;
    await b.query('COMMIT');
    const [p1, p2] = [await personOf('p1'), await personOf('p2')];
    expect([p1?.first_seen, p1?.last_seen].map(iso)).toEqual([iso(at('10:00')), iso(at('13:00'))]);
    expect([p2?.first_seen, p2?.last_seen].map(iso)).toEqual([iso(at('09:00')), iso(at('11:00'))]);
  });

  it('two batches of person operations on the same persons serialize', async () => {
    await a.query('BEGIN');
    await b.query('BEGIN');
    await insert([{ user: 'q1', at: at('10:00'), properties: { $set: { a: 1 } } }], a);
    const second = insert([{ user: 'q1', at: at('11:00'), properties: { $set: { b: 2 } } }], b);
    await secondWaitsForLock();
    await a.query('COMMIT');
    await second;
    await b.query('COMMIT');
    const q1 = await personOf('q1');
    expect(q1?.properties).toEqual({ a: 1, b: 2 });
    expect(await personCount()).toBe(1);
  });

  it('a batch writing for an anonymous id while its person is merged away reaches the merged person', async () => {
    await insert([{ user: 'anon', at: at('08:00'), properties: { $set: { r: 'ad' } } }]);
    await insert([{ user: 'user', at: at('09:00'), event: '$identify' }]);
    await a.query('BEGIN');
    await b.query('BEGIN');
    await insert([{ user: 'user', at: at('10:00'), event: '$identify', properties: { $anon_distinct_id: 'anon' } }], a);
    // No person operations: it only moves last_seen of the anonymous id's person.
    const second = insert([{ user: 'anon', at: at('20:00') }], b);
    await secondWaitsForLock();
    await a.query('COMMIT');
    await second;
    await b.query('COMMIT');
    const person = await personOf('anon');
    expect(person?.distinct_ids).toEqual(['anon', 'user']);
    expect([person?.first_seen, person?.last_seen].map(iso)).toEqual([iso(at('08:00')), iso(at('20:00'))]);
    expect(await personCount()).toBe(1);
  });
});
