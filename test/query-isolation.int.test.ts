import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryRunner, type QueryClient } from '../services/api/src/query/query-runner.ts';
import { TrendsRequest } from '../services/api/src/query/query.schemas.ts';
import { queryTrends } from '../services/api/src/query/trends.query.ts';
import { type FixtureEvent, insertEvents, queryClient } from './support/query-fixtures.ts';
import { createTestProject, startTestApi, type TestApi, waitFor } from './support/test-api.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

// Queries never stall ingest: a breakdown over many distinct values is ranked and folded in
// PostgreSQL (the API receives a bounded number of rows, and stays live meanwhile), running
// queries are capped per read key and per process, and API_SERVE splits ingest from queries.
const backends = useDatabaseAndRedis();
let api: TestApi;
let project: Awaited<ReturnType<typeof createTestProject>>;

const DISTINCT = 50_000;
const DAY = '2026-04-01';
const at = (i: number) => `${DAY}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`;
const breakdown = { events: ['view'], from: DAY, to: '2026-04-02', interval: 'hour', breakdown: 'ref', breakdown_limit: 3 };

beforeAll(async () => {
  api = await startTestApi({ databaseUrl: backends.db.url, redisUrl: backends.redis.url });
  project = await createTestProject(backends.db.pool, 'isolation');
  // 50,000 values seen once, three frequent ones, and events without the property.
  const events: FixtureEvent[] = [];
  for (let i = 0; i < DISTINCT; i++) events.push({ event: 'view', user: `u${i % 5000}`, at: at(i), properties: { ref: `v-${i}` } });
  for (const [ref, n] of [
    ['top-1', 40],
    ['top-2', 30],
    ['top-3', 20],
  ] as const) {
    for (let i = 0; i < n; i++) events.push({ event: 'view', user: `t${i}`, at: at(i * 7), properties: { ref } });
  }
  for (let i = 0; i < 9; i++) events.push({ event: 'view', user: `n${i}`, at: at(i * 5), properties: {} });
  await insertEvents(backends.db.pool, project.project_id, events);
});

afterAll(async () => {
  await api?.stop();
});

/** Holds an ACCESS EXCLUSIVE lock on `events` until `release()`: queries reading it wait in PostgreSQL. */
async function lockEvents(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
  return {
    /** Query API statements waiting for the lock now. */
    waiting: async () =>
      Number(
        (
          await backends.db.pool.query(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'eap-api-query' AND wait_event_type = 'Lock'`,
          )
        ).rows[0].n,
      ),
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** Expected points of each series, counted by PostgreSQL straight from the table. */
async function expectedSeries(measure: 'count(*)' | 'count(DISTINCT distinct_id)') {
  const { rows } = await backends.db.pool.query<{ series: string; hour: number; value: number }>(
    `SELECT CASE WHEN properties ->> 'ref' IS NULL THEN 'null' WHEN properties ->> 'ref' IN ('top-1', 'top-2', 'top-3') THEN properties ->> 'ref' ELSE '$other' END AS series,
            extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::int AS hour, ${measure}::int AS value
     FROM events WHERE project_id = $1 AND event = 'view' GROUP BY 1, 2`,
    [project.project_id],
  );
  const out: Record<string, number[]> = {};
  for (const row of rows) {
    out[row.series] ??= Array.from({ length: 24 }, () => 0);
    out[row.series]![row.hour] = row.value;
  }
  return out;
}

const seriesOf = (json: { series: { breakdown_value: string | null; points: { value: number }[] }[] }) =>
  Object.fromEntries(json.series.map((s) => [s.breakdown_value ?? 'null', s.points.map((p) => p.value)]));

describe(`a breakdown over ${DISTINCT.toLocaleString('en')} distinct values`, () => {
  it('answers the top N, null and "$other" with the totals PostgreSQL counts', async () => {
    const q = queryClient(api, project.read_key);
    const count = await q.post('trends', breakdown);
    expect(count.status).toBe(200);
    expect(count.json.series.map((s: { breakdown_value: string | null }) => s.breakdown_value)).toEqual([
      'top-1',
      'top-2',
      'top-3',
      null,
      '$other',
    ]);
    expect(seriesOf(count.json)).toEqual(await expectedSeries('count(*)'));
    const total = count.json.series
      .flatMap((s: { points: { value: number }[] }) => s.points)
      .reduce((n: number, p: { value: number }) => n + p.value, 0);
    expect(total).toBe(DISTINCT + 90 + 9);

    const users = await q.post('trends', { ...breakdown, measure: 'unique_users' });
    expect(users.status).toBe(200);
    expect(seriesOf(users.json)).toEqual(await expectedSeries('count(DISTINCT distinct_id)'));
  });

  it('sends the API at most (N + 2) rows per bucket, whatever the number of values', async () => {
    const pool = new pg.Pool({ connectionString: backends.db.url, max: 1 });
    try {
      const runner = createQueryRunner({ pool, timeoutMs: 60_000, workMemMb: 64 });
      for (const measure of ['count', 'sum', 'avg', 'unique_users'] as const) {
        const received = await runner.run('UTC', async (client) => {
          const rows: number[] = [];
          const counting: QueryClient = {
            query: (async (text: string, values: unknown[]) => {
              const result = await client.query(text, values);
              rows.push(result.rows.length);
              return result;
            }) as QueryClient['query'],
          };
          const request = TrendsRequest.parse({
            ...breakdown,
            measure,
            ...(measure === 'sum' || measure === 'avg' ? { property: 'n' } : {}),
          });
          const result = await queryTrends(counting, project.project_id, request);
          expect(result.series).toHaveLength(5);
          return Math.max(...rows);
        });
        expect(received, measure).toBeLessThanOrEqual((breakdown.breakdown_limit + 2) * 24);
      }
    } finally {
      await pool.end();
    }
  });

  it('leaves the process live and ingesting while the query runs', async () => {
    const lock = await lockEvents(backends.db.url);
    let settled = false;
    const pending = queryClient(api, project.read_key)
      .post('trends', breakdown)
      .finally(() => {
        settled = true;
      });
    try {
      await waitFor(async () => (await lock.waiting()) > 0, 10_000, 'the breakdown waiting in PostgreSQL');
      const livez = await fetch(`${api.adminUrl}/livez`);
      expect(livez.status).toBe(200);
      const ingested = await api.send('/v1/events', { key: project.write_key, body: { event: 'during', distinct_id: 'x' } });
      expect(ingested.status).toBe(202);
      expect(settled).toBe(false);
    } finally {
      await lock.release();
    }
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(seriesOf(answer.json)).toEqual(await expectedSeries('count(*)'));
  });
});

describe('bounded answers', () => {
  it('refuses a trends answer over 50,000 points, naming the limit', async () => {
    const res = await queryClient(api, project.read_key).post('trends', {
      events: Array.from({ length: 10 }, (_, i) => `e${i}`),
      from: DAY,
      to: '2026-04-02',
      interval: 'minute',
      breakdown: 'ref',
      breakdown_limit: 25,
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_QUERY');
    expect(res.json.error.message).toContain('388800 points (270 series × 1440 minute buckets), more than the 50000 allowed');
  });

  it('refuses a retention answer over 50,000 cells', async () => {
    const res = await queryClient(api, project.read_key).post('retention', {
      cohort_event: 'view',
      return_event: 'view',
      from: '2022-01-01',
      to: '2026-01-01',
      period: 'day',
      periods: 52,
    });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('more than the 50000 allowed');
  });
});

describe('the schema endpoint', () => {
  it('lists at most `limit` event names, the most frequent first, and says when it cut the list', async () => {
    await insertEvents(backends.db.pool, project.project_id, [
      { event: 'rare', user: 'r', at: `${DAY}T01:00:00Z` },
      { event: 'rarer', user: 'r', at: `${DAY}T02:00:00Z` },
    ]);
    const q = queryClient(api, project.read_key);
    const range = { from: DAY, to: '2026-04-02' };
    const cut = await q.get('schema', { ...range, limit: '1' });
    expect(cut.status).toBe(200);
    expect(cut.json.events).toEqual([{ event: 'view', count: DISTINCT + 90 + 9 }]);
    expect(cut.json.truncated).toEqual({ events: true, properties: false });
    const all = await q.get('schema', range);
    expect(all.json.events.map((e: { event: string }) => e.event)).toEqual(['view', 'rare', 'rarer']);
    expect(all.json.truncated.events).toBe(false);
    for (const limit of ['0', '10001', 'many']) {
      const refused = await q.get('schema', { ...range, limit });
      expect(refused.status, limit).toBe(400);
      expect(refused.json.error.message).toContain('limit');
    }
  });
});

describe('query transactions', () => {
  it('are ended by PostgreSQL when left idle: 504 QUERY_TIMEOUT, and the process and pool carry on', async () => {
    const pool = new pg.Pool({ connectionString: backends.db.url, max: 1 });
    try {
      const runner = createQueryRunner({ pool, timeoutMs: 10_000, idleInTransactionTimeoutMs: 200, workMemMb: 4 });
      const error = await runner
        .run('UTC', async (client) => {
          await client.query('SELECT 1');
          // A process stalled between two statements of its transaction.
          await new Promise((resolve) => setTimeout(resolve, 1000));
          return client.query('SELECT 1');
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'QUERY_TIMEOUT', status: 504 });
      expect(await runner.run('UTC', async (client) => (await client.query('SELECT 2 AS n')).rows[0].n)).toBe(2);
    } finally {
      await pool.end();
    }
  });
});

describe('query slots', () => {
  it('caps running queries per read key and per process: 429 TOO_MANY_QUERIES naming the limit, with Retry-After', async () => {
    const limited = await startTestApi({
      databaseUrl: backends.db.url,
      redisUrl: backends.redis.url,
      env: { QUERY_MAX_CONCURRENT_PER_KEY: '1', QUERY_MAX_CONCURRENT: '2' },
    });
    const second = await createTestProject(backends.db.pool, 'isolation-2');
    const third = await createTestProject(backends.db.pool, 'isolation-3');
    const lock = await lockEvents(backends.db.url);
    const held: Promise<{ status: number }>[] = [];
    try {
      held.push(queryClient(limited, project.read_key).post('trends', breakdown));
      await waitFor(async () => (await lock.waiting()) === 1, 10_000, 'one query waiting in PostgreSQL');
      const sameKey = await queryClient(limited, project.read_key).post('trends', breakdown);
      expect(sameKey.status).toBe(429);
      expect(sameKey.json.error).toMatchObject({
        code: 'TOO_MANY_QUERIES',
        message: expect.stringContaining('QUERY_MAX_CONCURRENT_PER_KEY'),
        details: { limit: 'per_key', max: 1 },
      });
      expect(sameKey.headers.get('retry-after')).toBe('1');

      held.push(queryClient(limited, second.read_key).post('trends', breakdown));
      await waitFor(async () => (await lock.waiting()) === 2, 10_000, 'two queries waiting in PostgreSQL');
      const otherKey = await queryClient(limited, third.read_key).post('trends', breakdown);
      expect(otherKey.status).toBe(429);
      expect(otherKey.json.error.details).toMatchObject({ limit: 'per_process', setting: 'QUERY_MAX_CONCURRENT', max: 2 });
      expect(otherKey.headers.get('retry-after')).toBe('1');
      const metrics = await (await fetch(`${limited.adminUrl}/metrics`)).text();
      expect(metrics).toContain('eap_api_queries_refused_total{limit="per_key"} 1');
      expect(metrics).toContain('eap_api_queries_running 2');
    } finally {
      await lock.release();
    }
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    // The slots are free again.
    expect((await queryClient(limited, project.read_key).post('trends', breakdown)).status).toBe(200);
    await limited.stop();
  });
});

describe('API_SERVE', () => {
  let ingest: TestApi;
  let query: TestApi;

  beforeAll(async () => {
    ingest = await startTestApi({ databaseUrl: backends.db.url, redisUrl: backends.redis.url, env: { API_SERVE: 'ingest' } });
    // Nothing listens there: a query process never connects to Redis.
    query = await startTestApi({ databaseUrl: backends.db.url, redisUrl: 'redis://127.0.0.1:1/0', env: { API_SERVE: 'query' } });
  });

  afterAll(async () => {
    await ingest?.stop();
    await query?.stop();
  });

  it('ingest: ingest, admin and docs; queries answer 404 saying they are served elsewhere', async () => {
    const accepted = await ingest.send('/v1/events', { key: project.write_key, body: { event: 'signup', distinct_id: 'u1' } });
    expect(accepted.status).toBe(202);
    const listed = await ingest.send('/v1/projects', {
      method: 'GET',
      headers: { authorization: `Bearer ${ingest.config.EAP_ADMIN_TOKEN}` },
    });
    expect(listed.status).toBe(200);
    expect((await ingest.send('/openapi.json', { method: 'GET' })).status).toBe(200);
    for (const res of [
      await queryClient(ingest, project.read_key).post('trends', breakdown),
      await queryClient(ingest, project.read_key).get('schema'),
      await ingest.send('/v1/persons/u1', { key: project.read_key, method: 'GET' }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('NOT_FOUND');
      expect(res.json.error.message).toContain('not served by this process (API_SERVE=ingest)');
    }
    expect((await fetch(`${ingest.adminUrl}/readyz`)).status).toBe(200);
  });

  it('query: queries and docs, ready without Redis; ingest and admin answer 404 saying so', async () => {
    const answer = await queryClient(query, project.read_key).post('trends', breakdown);
    expect(answer.status).toBe(200);
    expect(seriesOf(answer.json)).toEqual(await expectedSeries('count(*)'));
    expect((await query.send('/openapi.json', { method: 'GET' })).status).toBe(200);
    for (const [path, method] of [
      ['/v1/events', 'POST'],
      ['/v1/batch', 'POST'],
      ['/v1/projects', 'GET'],
    ] as const) {
      const res = await query.send(path, {
        key: project.write_key,
        method,
        body: method === 'POST' ? { event: 'x', distinct_id: 'u' } : undefined,
      });
      expect(res.status, path).toBe(404);
      expect(res.json.error.message).toContain('not served by this process (API_SERVE=query)');
    }
    const ready = await fetch(`${query.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(Object.keys(((await ready.json()) as { checks: object }).checks)).not.toContain('redis');
    expect(query.server.redis.status).toBe('wait');
  });

  it('all (the default) serves both', async () => {
    expect((await queryClient(api, project.read_key).post('trends', breakdown)).status).toBe(200);
    expect((await api.send('/v1/events', { key: project.write_key, body: { event: 'both', distinct_id: 'u' } })).status).toBe(202);
  });
});
