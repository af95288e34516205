import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureEvent, insertEvents, queryClient } from './support/query-fixtures.ts';
import { createTestProject, startTestApi, type TestApi } from './support/test-api.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

// Funnels and retention against hand-computed answers on small fixtures.
const backends = useDatabaseAndRedis();
let api: TestApi;
let q: ReturnType<typeof queryClient>;

const at = (time: string) => `2026-04-01T${time}Z`;
const ev = (event: string, user: string, time: string, properties?: Record<string, unknown>): FixtureEvent => ({
  event,
  user,
  at: time.includes('T') ? time : at(time),
  properties,
});

beforeAll(async () => {
  api = await startTestApi({ databaseUrl: backends.db.url, redisUrl: backends.redis.url });
  const project = await createTestProject(backends.db.pool, 'funnels');
  q = queryClient(api, project.read_key);
  await insertEvents(backends.db.pool, project.project_id, [
    // Funnel A → B → C, window 60 s, range 2026-04-01 (UTC).
    ev('A', 'u1', '10:00:00', { plan: 'pro' }),
    ev('B', 'u1', '10:00:10'),
    ev('C', 'u1', '10:00:20'),
    // B before A does not count; no B after it.
    ev('B', 'u2', '10:00:00'),
    ev('A', 'u2', '10:00:05'),
    ev('C', 'u2', '10:00:10'),
    // C 61 s after A: outside the window.
    ev('A', 'u3', '10:00:00', { plan: 'pro' }),
    ev('B', 'u3', '10:00:30'),
    ev('C', 'u3', '10:01:01'),
    // C exactly 60 s after A: inside (the window is inclusive).
    ev('A', 'u4', '10:00:00', { plan: 'free' }),
    ev('B', 'u4', '10:00:30'),
    ev('C', 'u4', '10:01:00'),
    // The window runs from the first A, not a later one.
    ev('A', 'u5', '10:00:00'),
    ev('A', 'u5', '10:01:30'),
    ev('B', 'u5', '10:01:40'),
    // A before the range does not start the funnel.
    ev('A', 'u6', '2026-03-31T23:59:59Z'),
    ev('B', 'u6', '2026-04-01T00:00:10Z'),
    // Steps at the same instant count when their names differ.
    ev('A', 'u7', '10:00:00'),
    ev('B', 'u7', '10:00:00'),
    ev('C', 'u7', '10:00:00'),
    // A near the end of the range; B after `to` but within the window.
    ev('A', 'u8', '2026-04-01T23:59:50Z'),
    ev('B', 'u8', '2026-04-02T00:00:20Z'),
    ev('C', 'u9', '10:00:00'),
    // Retention: cohort r_signup, return r_visit.
    ev('r_signup', 'v1', '2026-05-04T10:00:00Z'),
    ev('r_visit', 'v1', '2026-05-04T09:00:00Z'),
    ev('r_visit', 'v1', '2026-05-05T12:00:00Z'),
    ev('r_visit', 'v1', '2026-05-06T12:00:00Z'),
    ev('r_visit', 'v1', '2026-05-13T12:00:00Z'),
    ev('r_signup', 'v2', '2026-05-04T23:00:00Z'),
    ev('r_visit', 'v2', '2026-05-06T08:00:00Z'),
    ev('r_signup', 'v3', '2026-05-05T00:00:00Z'),
    ev('r_visit', 'v3', '2026-05-05T00:00:00Z'),
    ev('r_visit', 'v3', '2026-05-07T10:00:00Z'),
    ev('r_signup', 'v4', '2026-05-03T10:00:00Z'),
    ev('r_signup', 'v4', '2026-05-05T10:00:00Z'),
    ev('r_visit', 'v4', '2026-05-06T10:00:00Z'),
    ev('r_signup', 'v5', '2026-05-07T00:00:00Z'),
    ev('r_signup', 'v6', '2026-05-12T10:00:00Z'),
    ev('r_visit', 'v6', '2026-05-20T10:00:00Z'),
  ]);
});

afterAll(async () => {
  await api?.stop();
});

const counts = (steps: { count: number }[]) => steps.map((s) => s.count);
const funnel = { steps: ['A', 'B', 'C'], from: '2026-04-01', to: '2026-04-02', window_seconds: 60 };

describe('POST /v1/query/funnel', () => {
  it('counts users through ordered steps within the window from their first step', async () => {
    const res = await q.post('funnel', funnel);
    expect(res.status).toBe(200);
    expect(res.json.steps).toEqual([
      { event: 'A', count: 7, conversion: 1, conversion_from_previous: 1 },
      { event: 'B', count: 5, conversion: 0.7143, conversion_from_previous: 0.7143 },
      { event: 'C', count: 3, conversion: 0.4286, conversion_from_previous: 0.6 },
    ]);
    expect(res.json.meta.source).toBe('rollup');
  });

  it('gives the same answer from raw events', async () => {
    const raw = await q.post('funnel', {
      ...funnel,
      steps: [{ event: 'A', filters: [{ property: 'zzz', operator: 'is_not_set' }] }, 'B', 'C'],
    });
    expect(raw.json.meta.source).toBe('events');
    expect(counts(raw.json.steps)).toEqual([7, 5, 3]);
    const offset = await q.post('funnel', { ...funnel, from: '2026-03-31T23:00:00Z', to: '2026-04-02T00:00:00.001Z' });
    expect(counts(offset.json.steps)).toEqual([8, 6, 3]);
  });

  it('applies step filters and needs a repeated event to happen strictly later', async () => {
    const pro = await q.post('funnel', {
      ...funnel,
      steps: [{ event: 'A', filters: [{ property: 'plan', operator: 'eq', value: 'pro' }] }, 'B', 'C'],
    });
    expect(counts(pro.json.steps)).toEqual([2, 2, 1]);
    const again = await q.post('funnel', { ...funnel, steps: ['A', 'A'], window_seconds: 100 });
    expect(counts(again.json.steps)).toEqual([7, 1]);
    const tooShort = await q.post('funnel', { ...funnel, steps: ['A', 'A'], window_seconds: 89 });
    expect(counts(tooShort.json.steps)).toEqual([7, 0]);
  });

  it('breaks down by a property of the first step-1 event: top N, null, "$other"', async () => {
    const res = await q.post('funnel', { ...funnel, breakdown: 'plan', breakdown_limit: 1 });
    expect(counts(res.json.steps)).toEqual([7, 5, 3]);
    expect(
      res.json.breakdown.map((g: { breakdown_value: string | null; other?: boolean; steps: { count: number }[] }) => [
        g.breakdown_value,
        g.other ?? false,
        counts(g.steps),
      ]),
    ).toEqual([
      ['pro', false, [2, 2, 1]],
      [null, false, [4, 2, 1]],
      ['$other', true, [1, 1, 1]],
    ]);
  });

  it('answers zeros for an empty range', async () => {
    const res = await q.post('funnel', { ...funnel, from: '2025-01-01', to: '2025-01-02' });
    expect(res.json.steps.map((s: { count: number; conversion: number }) => [s.count, s.conversion])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('POST /v1/query/retention', () => {
  const daily = { cohort_event: 'r_signup', return_event: 'r_visit', from: '2026-05-04', to: '2026-05-07', period: 'day', periods: 3 };

  it('counts returning users per day after each cohort; period 0 is the whole cohort day', async () => {
    const res = await q.post('retention', daily);
    expect(res.status).toBe(200);
    expect(res.json.cohorts).toEqual([
      { start: '2026-05-04T00:00:00+00:00', size: 2, returned: [1, 1, 2] },
      { start: '2026-05-05T00:00:00+00:00', size: 2, returned: [1, 1, 1] },
      { start: '2026-05-06T00:00:00+00:00', size: 0, returned: [0, 0, 0] },
    ]);
    expect(res.json.meta.source).toBe('rollup');
  });

  it('gives the same cohorts from raw events', async () => {
    const res = await q.post('retention', { ...daily, timezone: 'Etc/UTC' });
    expect(res.json.meta.source).toBe('events');
    expect(res.json.cohorts.map((c: { size: number; returned: number[] }) => [c.size, c.returned])).toEqual([
      [2, [1, 1, 2]],
      [2, [1, 1, 1]],
      [0, [0, 0, 0]],
    ]);
  });

  it('counts weekly cohorts (weeks start on Monday)', async () => {
    const res = await q.post('retention', { ...daily, to: '2026-05-18', period: 'week', periods: 2 });
    expect(res.json.cohorts).toEqual([
      { start: '2026-05-04T00:00:00+00:00', size: 5, returned: [4, 1] },
      { start: '2026-05-11T00:00:00+00:00', size: 1, returned: [0, 1] },
    ]);
  });
});
