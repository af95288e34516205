import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EapError } from '@eap/core';
import { createQueryRunner, type QueryClient } from '../services/api/src/query/query-runner.ts';
import { TrendsRequest } from '../services/api/src/query/query.schemas.ts';
import { listEvents } from '../services/api/src/query/events.query.ts';
import { queryTrends } from '../services/api/src/query/trends.query.ts';
import { type FixtureEvent, insertEvents, queryClient } from './support/query-fixtures.ts';
import { createTestProject, startTestApi, type TestApi } from './support/test-api.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

// Auth, validation, event listing, schema, timeouts, partition pruning and rollup bookkeeping.
const backends = useDatabaseAndRedis();
let api: TestApi;
let project: Awaited<ReturnType<typeof createTestProject>>;
let q: ReturnType<typeof queryClient>;

const trends = { events: ['e'], from: '2026-06-01', to: '2026-06-02', interval: 'day' };

beforeAll(async () => {
  api = await startTestApi({ databaseUrl: backends.db.url, redisUrl: backends.redis.url });
  project = await createTestProject(backends.db.pool, 'api');
  q = queryClient(api, project.read_key);
  // 250 events over 5 days, many sharing a timestamp, for pagination and pruning.
  const events: FixtureEvent[] = [];
  for (let i = 0; i < 250; i++) {
    const day = 1 + (i % 5);
    events.push({
      event: i % 3 === 0 ? 'signup' : 'e',
      user: `user-${i % 7}`,
      at: `2026-06-0${day}T12:00:0${i % 4}Z`,
      properties: { plan: i % 2 === 0 ? 'pro' : 'free', n: i },
    });
  }
  await insertEvents(backends.db.pool, project.project_id, events);
});

afterAll(async () => {
  await api?.stop();
});

/** A client that runs queries on `client` and keeps their text and values, to EXPLAIN them. */
function recordQueries(client: QueryClient) {
  const recorded: { text: string; values: unknown[] }[] = [];
  const recording: QueryClient = {
    query: ((text: string, values: unknown[]) => {
      recorded.push({ text, values });
      return client.query(text, values);
    }) as QueryClient['query'],
  };
  return { recording, recorded };
}

describe('query auth', () => {
  it('needs a read key: missing or unknown 401, a write key 403', async () => {
    const missing = await api.send('/v1/query/trends', { body: trends });
    expect(missing.status).toBe(401);
    expect(missing.json.error.code).toBe('UNAUTHORIZED');
    expect((await api.send('/v1/query/trends', { key: 'eap_r_unknown', body: trends })).status).toBe(401);
    const write = await api.send('/v1/query/trends', { key: project.write_key, body: trends });
    expect(write.status).toBe(403);
    expect(write.json.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('read key') });
    expect((await api.send('/v1/query/schema', { key: project.write_key, method: 'GET' })).status).toBe(403);
    const ok = await q.post('trends', trends);
    expect(ok.status).toBe(200);
    expect(ok.json.series[0].points[0].value).toBe(33);
  });

  it('limits queries per read key: 429 RATE_LIMITED with Retry-After beyond the burst', async () => {
    const limited = await startTestApi({
      databaseUrl: backends.db.url,
      redisUrl: backends.redis.url,
      env: { QUERY_RATE_LIMIT_PER_SECOND: '1', QUERY_RATE_LIMIT_BURST: '3' },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await queryClient(limited, project.read_key).post('trends', trends)).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      const refused = await limited.send('/v1/query/trends', { key: project.read_key, body: trends });
      expect(refused.status).toBe(429);
      expect(refused.json.error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Another project's read key has its own bucket.
      const other = await createTestProject(backends.db.pool, 'rate-other');
      expect((await queryClient(limited, other.read_key).post('trends', trends)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it("answers a read key with its own project's data only", async () => {
    const other = await createTestProject(backends.db.pool, 'other');
    const res = await queryClient(api, other.read_key).post('trends', trends);
    expect(res.json.series[0].points[0].value).toBe(0);
  });
});

describe('query validation', () => {
  const expectInvalid = async (path: string, body: unknown, field: string) => {
    const res = await q.post(path, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_QUERY');
    expect(res.json.error.message).toContain(field);
    return res;
  };

  it('names the bad field', async () => {
    await expectInvalid('trends', { ...trends, interval: 'fortnight' }, 'interval');
    await expectInvalid('trends', { ...trends, from: '2026-06-02', to: '2026-06-01' }, 'from: must be before to');
    await expectInvalid('trends', { ...trends, from: 'yesterday' }, 'from');
    await expectInvalid('trends', { ...trends, events: [] }, 'events');
    await expectInvalid('trends', { ...trends, measure: 'sum' }, 'property');
    await expectInvalid('trends', { ...trends, filters: [{ property: 'n', operator: 'gt', value: 'x' }] }, 'filters[0].value');
    await expectInvalid('trends', { ...trends, surprise: 1 }, 'surprise');
  });

  it('refuses too many buckets and unknown time zones', async () => {
    const many = await expectInvalid('trends', { ...trends, from: '2026-01-01', to: '2026-06-01', interval: 'minute' }, 'buckets');
    expect(many.json.error.message).toContain('2000');
    await expectInvalid('trends', { ...trends, timezone: 'Mars/Olympus_Mons' }, 'timezone');
    await expectInvalid('trends', { ...trends, timezone: "UTC'; DROP TABLE events; --" }, 'timezone');
  });

  it('wants 2 to 10 funnel steps', async () => {
    const funnel = { from: '2026-06-01', to: '2026-06-02', window_seconds: 3600 };
    await expectInvalid('funnel', { ...funnel, steps: ['e'] }, 'at least 2 steps');
    await expectInvalid('funnel', { ...funnel, steps: Array.from({ length: 11 }, () => 'e') }, 'at most 10 steps');
    expect((await q.post('funnel', { ...funnel, steps: Array.from({ length: 10 }, () => 'e') })).status).toBe(200);
  });

  it('refuses a cursor it did not issue and a malformed properties parameter', async () => {
    expect((await q.get('events', { cursor: 'not-a-cursor' })).json.error.message).toContain('cursor');
    expect((await q.get('events', { properties: '{plan' })).status).toBe(400);
  });
});

describe('GET /v1/query/events', () => {
  const range = { from: '2026-06-01', to: '2026-06-06' };

  it('pages through every event exactly once, newest first', async () => {
    const seen: { event_id: string; timestamp: string }[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await q.get('events', { ...range, limit: '7', ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.json.events);
      cursor = res.json.next_cursor ?? undefined;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen.map((e) => e.event_id)).size).toBe(250);
    const times = seen.map((e) => e.timestamp);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('filters by name, user and property equality', async () => {
    const res = await q.get('events', { ...range, event: 'signup', distinct_id: 'user-0', properties: '{"plan":"pro"}', limit: '1000' });
    const expected = Array.from({ length: 250 }, (_, i) => i).filter((i) => i % 3 === 0 && i % 7 === 0 && i % 2 === 0);
    expect(res.json.events.map((e: { properties: { n: number } }) => e.properties.n).sort((a: number, b: number) => a - b)).toEqual(
      expected,
    );
    expect(res.json.next_cursor).toBeNull();
    const typed = await q.get('events', { ...range, properties: '{"n":"3"}' });
    expect(typed.json.events).toHaveLength(0);
  });
});

describe('GET /v1/query/schema', () => {
  it('lists event names with counts and properties with types and top values', async () => {
    const res = await q.get('schema', { from: '2026-06-01', to: '2026-06-06' });
    expect(res.status).toBe(200);
    expect(res.json.events).toEqual([
      { event: 'e', count: 166 },
      { event: 'signup', count: 84 },
    ]);
    const plan = res.json.properties.find((p: { property: string }) => p.property === 'plan');
    expect(plan.types).toEqual(['string']);
    expect(plan.top_values.map((v: { value: string }) => v.value).sort()).toEqual(['free', 'pro']);
    expect(res.json.properties.find((p: { property: string }) => p.property === 'n').types).toEqual(['number']);
    // The property sample is the last day of the range: the 50 events of June 5.
    expect(res.json.properties_sample.events).toBe(50);
  });
});

describe('query execution', () => {
  it('stops a query at the statement timeout with QUERY_TIMEOUT', async () => {
    const pool = new pg.Pool({ connectionString: backends.db.url, max: 1 });
    try {
      const runner = createQueryRunner({ pool, timeoutMs: 200, workMemMb: 4 });
      const error = await runner.run('UTC', (c) => c.query('SELECT pg_sleep(2)')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EapError);
      expect((error as EapError).code).toBe('QUERY_TIMEOUT');
      expect((error as EapError).status).toBe(504);
      // The setting ended with the transaction: the pooled connection is usable and unbounded again.
      const { rows } = await pool.query('SHOW statement_timeout');
      expect(rows[0].statement_timeout).toBe('0');
    } finally {
      await pool.end();
    }
  });

  it('reads only the partitions of the range (EXPLAIN of the real queries)', async () => {
    const pool = new pg.Pool({ connectionString: backends.db.url, max: 1 });
    try {
      const runner = createQueryRunner({ pool, timeoutMs: 10_000, workMemMb: 4 });
      const partitions = await runner.run('UTC', async (client) => {
        const { recording, recorded } = recordQueries(client);
        // A filter sends the query to raw events; the range is one day.
        const request = TrendsRequest.parse({
          ...trends,
          from: '2026-06-03',
          to: '2026-06-04',
          filters: [{ property: 'plan', operator: 'is_set' }],
        });
        const result = await queryTrends(recording, project.project_id, request);
        expect(result.series[0]!.points[0]!.value).toBe(34);
        const scan = recorded.find((r) => r.text.includes('FROM events'))!;
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${scan.text}`, scan.values);
        return [...JSON.stringify(rows[0]['QUERY PLAN']).matchAll(/"Relation Name":"(events_p\d+)"/g)].map((m) => m[1]);
      });
      expect(new Set(partitions)).toEqual(new Set(['events_p20260603']));
    } finally {
      await pool.end();
    }
  });

  it('pages events in the order of the table columns, never by formatting every row first', async () => {
    const pool = new pg.Pool({ connectionString: backends.db.url, max: 1 });
    try {
      const runner = createQueryRunner({ pool, timeoutMs: 10_000, workMemMb: 4 });
      const sortKeys = await runner.run('UTC', async (client) => {
        const { recording, recorded } = recordQueries(client);
        const page = await listEvents(recording, project.project_id, {
          from: '2026-06-01T00:00:00Z',
          to: '2026-06-08T00:00:00Z',
          timezone: 'UTC',
          events: undefined,
          distinctId: undefined,
          properties: undefined,
          limit: 5,
          cursor: undefined,
        });
        expect(page.events).toHaveLength(5);
        const scan = recorded.find((r) => r.text.includes('FROM events'))!;
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON, VERBOSE) ${scan.text}`, scan.values);
        return [...JSON.stringify(rows[0]['QUERY PLAN']).matchAll(/"Sort Key":\[([^\]]*)\]/g)].map((m) => m[1]!);
      });
      // An ORDER BY on the to_char() output column named "timestamp" sorted every event of the range.
      for (const key of sortKeys) expect(key).not.toContain('to_char');
    } finally {
      await pool.end();
    }
  });
});

describe('rollups', () => {
  it('count only rows actually inserted: duplicates and rolled-back batches leave them unchanged', async () => {
    const p = await createTestProject(backends.db.pool, 'rollups');
    const one = { event: 'dup', user: 'u', at: '2026-06-10T10:00:00Z', id: 'same-id' };
    await insertEvents(backends.db.pool, p.project_id, [one, { ...one, id: 'other-id', user: 'v' }]);
    await insertEvents(backends.db.pool, p.project_id, [one]);
    const client = await backends.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at) VALUES ($1, 'rolled-back', 'dup', 'w', '2026-06-10T11:00:00Z', now())`,
        [p.project_id],
      );
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    const { rows } = await backends.db.pool.query(
      `SELECT (SELECT sum(events)::int FROM event_counts_hourly WHERE project_id = $1) AS events,
              (SELECT count(*)::int FROM event_user_days WHERE project_id = $1) AS user_days,
              (SELECT sum(users)::int FROM event_users_daily WHERE project_id = $1) AS daily_users`,
      [p.project_id],
    );
    expect(rows[0]).toEqual({ events: 2, user_days: 2, daily_users: 2 });
    const res = await queryClient(api, p.read_key).post('trends', {
      events: ['dup'],
      from: '2026-06-10',
      to: '2026-06-11',
      interval: 'day',
      measure: 'unique_users',
    });
    expect(res.json.series[0].points[0].value).toBe(2);
  });

  it('agree with raw events over the whole fixture, for every event and day', async () => {
    const { rows } = await backends.db.pool.query(
      `SELECT
         (SELECT jsonb_object_agg(k, n) FROM (SELECT event || ' ' || date_trunc('hour', "timestamp", 'UTC') AS k, count(*) AS n FROM events GROUP BY 1) r) AS raw_counts,
         (SELECT jsonb_object_agg(k, n) FROM (SELECT event || ' ' || hour AS k, sum(events) AS n FROM event_counts_hourly GROUP BY 1) r) AS rollup_counts,
         (SELECT jsonb_object_agg(k, n) FROM (SELECT event || ' ' || ("timestamp" AT TIME ZONE 'UTC')::date AS k, count(DISTINCT distinct_id) AS n FROM events GROUP BY 1) r) AS raw_users,
         (SELECT jsonb_object_agg(k, n) FROM (SELECT event || ' ' || day AS k, sum(users) AS n FROM event_users_daily GROUP BY 1) r) AS rollup_users,
         (SELECT count(*) FROM (SELECT project_id, event, day, distinct_id, first_at FROM event_user_days
                                EXCEPT SELECT project_id, event, ("timestamp" AT TIME ZONE 'UTC')::date, distinct_id, min("timestamp") FROM events GROUP BY 1, 2, 3, 4) d) AS user_day_mismatches`,
    );
    expect(rows[0].rollup_counts).toEqual(rows[0].raw_counts);
    expect(rows[0].rollup_users).toEqual(rows[0].raw_users);
    expect(Number(rows[0].user_day_mismatches)).toBe(0);
  });
});
