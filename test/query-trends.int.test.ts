import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, pointsOf, queryClient } from './support/query-fixtures.ts';
import { createTestProject, startTestApi, type TestApi } from './support/test-api.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

// Trends against hand-computed answers on small fixtures written straight into PostgreSQL.
const backends = useDatabaseAndRedis();
let api: TestApi;
let q: ReturnType<typeof queryClient>;
let projectId: string;

/** A filter every event passes: it forces the raw-event path, to compare it with the rollups. */
const RAW = [{ property: 'no_such_property', operator: 'is_not_set' }];

beforeAll(async () => {
  api = await startTestApi({ databaseUrl: backends.db.url, redisUrl: backends.redis.url });
  const project = await createTestProject(backends.db.pool, 'trends');
  projectId = project.project_id;
  q = queryClient(api, project.read_key);
  const other = await createTestProject(backends.db.pool, 'other');
  await insertEvents(backends.db.pool, other.project_id, [{ event: 'view', user: 'x', at: '2026-01-10T10:00:00Z' }]);
  await insertEvents(backends.db.pool, projectId, [
    // Range edges: from is inclusive, to exclusive; midnight starts the new day.
    { event: 'view', user: 'u1', at: '2026-01-09T23:59:59.999Z' },
    { event: 'view', user: 'u1', at: '2026-01-10T00:00:00Z' },
    { event: 'view', user: 'u2', at: '2026-01-10T12:00:00Z' },
    { event: 'view', user: 'u2', at: '2026-01-10T23:59:59.999999Z' },
    { event: 'view', user: 'u1', at: '2026-01-11T00:00:00Z' },
    { event: 'view', user: 'u3', at: '2026-01-13T00:00:00Z' },
    // America/New_York: spring forward on 2026-03-08, fall back on 2026-11-01.
    { event: 'dst', user: 'u1', at: '2026-03-08T04:59:59Z' },
    { event: 'dst', user: 'u1', at: '2026-03-08T05:00:00Z' },
    { event: 'dst', user: 'u2', at: '2026-03-08T06:30:00Z' },
    { event: 'dst', user: 'u2', at: '2026-03-08T07:30:00Z' },
    { event: 'dst', user: 'u3', at: '2026-03-09T03:59:59Z' },
    { event: 'dst', user: 'u3', at: '2026-03-09T04:00:00Z' },
    { event: 'dst', user: 'u2', at: '2026-11-01T03:59:59Z' },
    { event: 'dst', user: 'u1', at: '2026-11-01T05:30:00Z' },
    { event: 'dst', user: 'u1', at: '2026-11-01T06:30:00Z' },
    { event: 'dst', user: 'u2', at: '2026-11-02T04:59:59Z' },
  ]);
  const buy = (user: string, properties: Record<string, unknown>) => ({ event: 'buy', user, at: '2026-02-02T10:00:00Z', properties });
  await insertEvents(backends.db.pool, projectId, [
    buy('a', { plan: 'pro', amount: 10 }),
    buy('b', { plan: 'pro', amount: 20.5 }),
    buy('c', { plan: 'pro', amount: '30' }),
    buy('d', { plan: 'free', amount: true }),
    buy('d', { plan: 'free' }),
    buy('f', { plan: 'enterprise' }),
    buy('g', {}),
    buy('h', { plan: null }),
    buy('i', { plan: 'team', "x'); DROP TABLE events; --": 'y' }),
  ]);
});

afterAll(async () => {
  await api?.stop();
});

const day = (d: string) => `2026-01-${d}T00:00:00+00:00`;

describe('POST /v1/query/trends', () => {
  it('counts events per UTC day with an inclusive from, an exclusive to and empty days as 0', async () => {
    const res = await q.post('trends', { events: ['view'], from: '2026-01-10', to: '2026-01-13', interval: 'day' });
    expect(res.status).toBe(200);
    expect(res.json.series).toHaveLength(1);
    expect(pointsOf(res.json.series[0])).toEqual({ [day('10')]: 3, [day('11')]: 1, [day('12')]: 0 });
    expect(res.json.meta).toEqual({ source: 'rollup', approximate: false });
    const raw = await q.post('trends', { events: ['view'], from: '2026-01-10', to: '2026-01-13', interval: 'day', filters: RAW });
    expect(raw.json.meta.source).toBe('events');
    expect(raw.json.series).toEqual(res.json.series);
  });

  it('counts unique users per day from the rollup and from raw events alike', async () => {
    const body = { events: ['view'], from: '2026-01-10T00:00:00Z', to: '2026-01-13T00:00:00Z', interval: 'day', measure: 'unique_users' };
    const res = await q.post('trends', body);
    expect(pointsOf(res.json.series[0])).toEqual({ [day('10')]: 2, [day('11')]: 1, [day('12')]: 0 });
    expect(res.json.meta.source).toBe('rollup');
    const raw = await q.post('trends', { ...body, filters: RAW });
    expect(raw.json.series).toEqual(res.json.series);
    const weekly = await q.post('trends', { ...body, interval: 'week' });
    expect(pointsOf(weekly.json.series[0])).toEqual({ '2026-01-05T00:00:00+00:00': 2, [day('12')]: 0 });
  });

  it('reads partial hours and days at the edges of the range from raw events', async () => {
    const body = { events: ['view'], from: '2026-01-10T12:00:00Z', to: '2026-01-11T00:00:00.500Z', interval: 'day' };
    const count = await q.post('trends', body);
    expect(pointsOf(count.json.series[0])).toEqual({ [day('10')]: 2, [day('11')]: 1 });
    expect(count.json.meta.source).toBe('rollup');
    const users = await q.post('trends', { ...body, measure: 'unique_users' });
    expect(pointsOf(users.json.series[0])).toEqual({ [day('10')]: 1, [day('11')]: 1 });
    const hourly = await q.post('trends', { ...body, from: '2026-01-10T23:30:00Z', interval: 'hour' });
    expect(pointsOf(hourly.json.series[0])).toEqual({ '2026-01-10T23:00:00+00:00': 1, [day('11')]: 1 });
  });

  it('never shows another project’s events', async () => {
    const res = await q.post('trends', { events: ['view'], from: '2026-01-10T10:00:00Z', to: '2026-01-10T11:00:00Z', interval: 'hour' });
    expect(pointsOf(res.json.series[0])).toEqual({ '2026-01-10T10:00:00+00:00': 0 });
  });

  it('buckets days by the time zone across the spring-forward change (a 23-hour day)', async () => {
    const body = { events: ['dst'], from: '2026-03-07', to: '2026-03-10', interval: 'day', timezone: 'America/New_York' };
    const count = await q.post('trends', body);
    expect(count.status).toBe(200);
    expect(pointsOf(count.json.series[0])).toEqual({
      '2026-03-07T00:00:00-05:00': 1,
      '2026-03-08T00:00:00-05:00': 4,
      '2026-03-09T00:00:00-04:00': 1,
    });
    const users = await q.post('trends', { ...body, measure: 'unique_users' });
    expect(users.json.meta.source).toBe('events');
    expect(pointsOf(users.json.series[0])).toEqual({
      '2026-03-07T00:00:00-05:00': 1,
      '2026-03-08T00:00:00-05:00': 3,
      '2026-03-09T00:00:00-04:00': 1,
    });
  });

  it('has no 02:00 hour when clocks go forward and two 01:00 hours when they go back', async () => {
    const spring = await q.post('trends', {
      events: ['dst'],
      from: '2026-03-08T00:00:00-05:00',
      to: '2026-03-08T05:00:00-04:00',
      interval: 'hour',
      timezone: 'America/New_York',
    });
    expect(spring.json.series[0].points).toEqual([
      { t: '2026-03-08T00:00:00-05:00', value: 1 },
      { t: '2026-03-08T01:00:00-05:00', value: 1 },
      { t: '2026-03-08T03:00:00-04:00', value: 1 },
      { t: '2026-03-08T04:00:00-04:00', value: 0 },
    ]);
    const fall = await q.post('trends', {
      events: ['dst'],
      from: '2026-11-01T00:00:00-04:00',
      to: '2026-11-01T03:00:00-05:00',
      interval: 'hour',
      timezone: 'America/New_York',
    });
    expect(fall.json.series[0].points).toEqual([
      { t: '2026-11-01T00:00:00-04:00', value: 0 },
      { t: '2026-11-01T01:00:00-04:00', value: 1 },
      { t: '2026-11-01T01:00:00-05:00', value: 1 },
      { t: '2026-11-01T02:00:00-05:00', value: 0 },
    ]);
    const days = await q.post('trends', {
      events: ['dst'],
      from: '2026-10-31',
      to: '2026-11-03',
      interval: 'day',
      timezone: 'America/New_York',
    });
    expect(pointsOf(days.json.series[0])).toEqual({
      '2026-10-31T00:00:00-04:00': 1,
      '2026-11-01T00:00:00-04:00': 3,
      '2026-11-02T00:00:00-05:00': 0,
    });
  });

  it('breaks down by a property: top N values, null as its own series, the rest as "$other"', async () => {
    const body = { events: ['buy'], from: '2026-02-02', to: '2026-02-03', interval: 'day', breakdown: 'plan', breakdown_limit: 2 };
    const res = await q.post('trends', body);
    expect(res.status).toBe(200);
    const summary = res.json.series.map((s: { breakdown_value: string | null; other?: boolean; points: { value: number }[] }) => [
      s.breakdown_value,
      s.other ?? false,
      s.points[0]!.value,
    ]);
    expect(summary).toEqual([
      ['pro', false, 3],
      ['free', false, 2],
      [null, false, 2],
      ['$other', true, 2],
    ]);
    const users = await q.post('trends', { ...body, measure: 'unique_users' });
    expect(users.json.series.map((s: { points: { value: number }[] }) => s.points[0]!.value)).toEqual([3, 1, 2, 2]);
  });

  it('sums and averages numeric values only (strings and booleans are ignored)', async () => {
    const body = { events: ['buy'], from: '2026-02-02', to: '2026-02-03', interval: 'day', property: 'amount' };
    const sum = await q.post('trends', { ...body, measure: 'sum' });
    expect(sum.json.series[0].points[0].value).toBe(30.5);
    const avg = await q.post('trends', { ...body, measure: 'avg' });
    expect(avg.json.series[0].points[0].value).toBe(15.25);
    const byPlan = await q.post('trends', { ...body, measure: 'sum', breakdown: 'plan' });
    const pro = byPlan.json.series.find((s: { breakdown_value: string }) => s.breakdown_value === 'pro');
    expect(pro.points[0].value).toBe(30.5);
    const empty = await q.post('trends', { ...body, measure: 'avg', from: '2026-02-03', to: '2026-02-04' });
    expect(empty.json.series[0].points).toEqual([{ t: '2026-02-03T00:00:00+00:00', value: 0 }]);
  });

  it.each([
    [{ property: 'plan', operator: 'eq', value: 'pro' }, 3],
    [{ property: 'plan', operator: 'neq', value: 'pro' }, 6],
    [{ property: 'plan', operator: 'contains', value: 'PR' }, 4],
    [{ property: 'amount', operator: 'gt', value: 10 }, 1],
    [{ property: 'amount', operator: 'gte', value: 10 }, 2],
    [{ property: 'amount', operator: 'lt', value: 20.5 }, 1],
    [{ property: 'amount', operator: 'lte', value: 20.5 }, 2],
    [{ property: 'plan', operator: 'is_set' }, 7],
    [{ property: 'plan', operator: 'is_not_set' }, 2],
    [{ property: 'amount', operator: 'eq', value: '30' }, 1],
    [{ property: 'amount', operator: 'eq', value: 30 }, 0],
    [{ property: 'plan', operator: 'contains', value: '%' }, 0],
  ])('filters with %j', async (filter, expected) => {
    const res = await q.post('trends', { events: ['buy'], from: '2026-02-02', to: '2026-02-03', interval: 'day', filters: [filter] });
    expect(res.status).toBe(200);
    expect(res.json.series[0].points[0].value).toBe(expected);
  });

  it('treats SQL in property names as a plain key', async () => {
    const key = "x'); DROP TABLE events; --";
    const filtered = await q.post('trends', {
      events: ['buy'],
      from: '2026-02-02',
      to: '2026-02-03',
      interval: 'day',
      filters: [{ property: key, operator: 'eq', value: 'y' }],
    });
    expect(filtered.json.series[0].points[0].value).toBe(1);
    const broken = await q.post('trends', { events: ['buy'], from: '2026-02-02', to: '2026-02-03', interval: 'day', breakdown: key });
    expect(broken.json.series.map((s: { breakdown_value: string | null }) => s.breakdown_value)).toEqual(['y', null]);
    const { rows } = await backends.db.pool.query('SELECT count(*)::int AS n FROM events');
    expect(rows[0].n).toBeGreaterThan(20);
  });

  it('returns every requested event in request order, zeros for an empty range', async () => {
    const res = await q.post('trends', { events: ['nothing', 'view'], from: '2025-06-01', to: '2025-06-03', interval: 'day' });
    expect(res.json.series.map((s: { event: string }) => s.event)).toEqual(['nothing', 'view']);
    for (const s of res.json.series) expect(s.points.map((p: { value: number }) => p.value)).toEqual([0, 0]);
  });
});
