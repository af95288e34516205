import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureEvent, insertEvents, pointsOf, queryClient } from './support/query-fixtures.ts';
import { createTestProject, startTestApi, type TestApi } from './support/test-api.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

// The query API with persons, through a real API: the persons route, count_by person, person
// property filters and include_bots, against hand-computed answers.
const backends = useDatabaseAndRedis();
let api: TestApi;
let q: ReturnType<typeof queryClient>;
let project: Awaited<ReturnType<typeof createTestProject>>;

const ev = (event: string, user: string, at: string, properties?: Record<string, unknown>): FixtureEvent => ({
  event,
  user,
  at: at.includes('T') ? at : `2026-04-01T${at}:00Z`,
  properties,
});

beforeAll(async () => {
  api = await startTestApi({ databaseUrl: backends.db.url, redisUrl: backends.redis.url });
  project = await createTestProject(backends.db.pool, 'persons');
  q = queryClient(api, project.read_key);
  await insertEvents(backends.db.pool, project.project_id, [
    // anon-1 starts the funnel anonymously, identifies as user-1, then finishes it.
    ev('page', 'anon-1', '09:00'),
    ev('A', 'anon-1', '10:00'),
    ev('$identify', 'user-1', '10:01', { $anon_distinct_id: 'anon-1', $set: { plan: 'pro' } }),
    ev('B', 'user-1', '10:02'),
    ev('page', 'user-1', '12:00'),
    ev('page', 'user-1', '2026-04-02T08:00:00Z'),
    // u2 has no person.
    ev('A', 'u2', '11:00'),
    ev('B', 'u2', '11:01'),
    ev('page', 'u2', '12:00'),
  ]);
  // A crawler: a bot event, as the worker stores one (the rollups skip it).
  await backends.db.pool.query(
    `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at, properties, is_bot)
     VALUES ($1, 'bot-1', 'A', 'crawler', '2026-04-01T10:30:00Z', '2026-04-01T10:30:00Z', '{"$set": {"plan": "pro"}}', true),
            ($1, 'bot-2', 'B', 'crawler', '2026-04-01T10:31:00Z', '2026-04-01T10:31:00Z', '{}', true)`,
    [project.project_id],
  );
});

afterAll(async () => {
  await api?.stop();
});

const day = { from: '2026-04-01', to: '2026-04-02' };
const counts = (steps: { count: number }[]) => steps.map((s) => s.count);
const person = (distinctId: string, key = project.read_key) =>
  api.send(`/v1/persons/${encodeURIComponent(distinctId)}`, { key, method: 'GET' });

describe('GET /v1/persons/:distinct_id', () => {
  it('answers the person of any of its distinct ids', async () => {
    for (const id of ['anon-1', 'user-1']) {
      const res = await person(id);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        person_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        distinct_ids: ['anon-1', 'user-1'],
        properties: { plan: 'pro' },
        is_identified: true,
        first_seen: '2026-04-01T09:00:00.000000Z',
        last_seen: '2026-04-02T08:00:00.000000Z',
      });
    }
  });

  it('answers a distinct id with events but no person as a person of its own; 404 without either', async () => {
    const res = await person('u2');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      person_id: null,
      distinct_ids: ['u2'],
      properties: {},
      is_identified: false,
      first_seen: '2026-04-01T11:00:00.000000Z',
      last_seen: '2026-04-01T12:00:00.000000Z',
    });
    expect((await person('crawler')).status).toBe(404);
    const missing = await person('nobody');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('NOT_FOUND');
  });

  it('needs a read key and refuses a distinct id longer than any stored one with a 4xx', async () => {
    expect((await person('anon-1', project.write_key)).status).toBe(403);
    expect((await api.send('/v1/persons/anon-1', { method: 'GET' })).status).toBe(401);
    expect((await person('x'.repeat(200))).status).toBe(404);
    // A distinct id is at most 200 characters: a longer one can name nobody.
    expect((await person('x'.repeat(201))).status).toBe(400);
    // 200 four-byte characters, URL-encoded to 2,400 characters, still reach the route.
    expect((await person('😀'.repeat(100))).status).toBe(404);
  });
});

describe('count_by', () => {
  it('funnel: a funnel started anonymously and finished after $identify counts once by person', async () => {
    const body = { steps: ['A', 'B'], ...day, window_seconds: 3600 };
    const byId = await q.post('funnel', body);
    expect(byId.status).toBe(200);
    expect(counts(byId.json.steps)).toEqual([2, 1]);
    const byPerson = await q.post('funnel', { ...body, count_by: 'person' });
    expect(byPerson.status).toBe(200);
    expect(counts(byPerson.json.steps)).toEqual([2, 2]);
    expect(byPerson.json.meta.source).toBe('events');
  });

  it('trends: unique users count the ids of one person once', async () => {
    const body = { events: ['page'], ...day, interval: 'day', measure: 'unique_users' };
    const byId = await q.post('trends', body);
    expect(pointsOf(byId.json.series[0])).toEqual({ '2026-04-01T00:00:00+00:00': 3 });
    const byPerson = await q.post('trends', { ...body, count_by: 'person' });
    expect(byPerson.status).toBe(200);
    expect(pointsOf(byPerson.json.series[0])).toEqual({ '2026-04-01T00:00:00+00:00': 2 });
  });

  it('retention: a person returning under another of its ids is retained', async () => {
    const body = { cohort_event: 'A', return_event: 'page', ...day, period: 'day', periods: 2 };
    const byId = await q.post('retention', body);
    expect(byId.json.cohorts).toEqual([{ start: '2026-04-01T00:00:00+00:00', size: 2, returned: [2, 0] }]);
    const byPerson = await q.post('retention', { ...body, count_by: 'person' });
    expect(byPerson.status).toBe(200);
    expect(byPerson.json.cohorts).toEqual([{ start: '2026-04-01T00:00:00+00:00', size: 2, returned: [2, 1] }]);
  });

  it('refuses an unknown count_by with a 400', async () => {
    const res = await q.post('funnel', { steps: ['A', 'B'], ...day, window_seconds: 60, count_by: 'device' });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('count_by');
  });
});

describe('person property filters', () => {
  const pro = { source: 'person', property: 'plan', operator: 'eq', value: 'pro' };

  it('filter trends by the person of the event, whatever distinct id sent it', async () => {
    const res = await q.post('trends', { events: ['A', 'page'], ...day, interval: 'day', filters: [pro] });
    expect(res.status).toBe(200);
    expect(res.json.series.map((s: { points: { value: number }[] }) => s.points[0]!.value)).toEqual([1, 2]);
    // An event property of the same name is another thing.
    const eventPlan = await q.post('trends', { events: ['A'], ...day, interval: 'day', filters: [{ ...pro, source: 'event' }] });
    expect(eventPlan.json.series[0].points[0].value).toBe(0);
  });

  it('filter funnel steps, combined with count_by person', async () => {
    const res = await q.post('funnel', {
      steps: [{ event: 'A', filters: [pro] }, 'B'],
      ...day,
      window_seconds: 3600,
      count_by: 'person',
    });
    expect(res.status).toBe(200);
    expect(counts(res.json.steps)).toEqual([1, 1]);
    const none = await q.post('funnel', {
      steps: [{ event: 'A', filters: [{ ...pro, operator: 'is_not_set', value: undefined }] }, 'B'],
      ...day,
      window_seconds: 3600,
    });
    expect(counts(none.json.steps)).toEqual([1, 1]);
  });

  it('refuses an unknown filter source with a 400', async () => {
    const res = await q.post('trends', { events: ['A'], ...day, interval: 'day', filters: [{ ...pro, source: 'group' }] });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('source');
  });
});

describe('include_bots', () => {
  it('leaves bot events out of every query unless asked', async () => {
    const trends = { events: ['A'], ...day, interval: 'day' };
    expect((await q.post('trends', trends)).json.series[0].points[0].value).toBe(2);
    expect((await q.post('trends', { ...trends, include_bots: true })).json.series[0].points[0].value).toBe(3);
    const hourly = { ...trends, interval: 'hour', from: '2026-04-01T10:00:00Z', to: '2026-04-01T11:00:00Z' };
    expect(pointsOf((await q.post('trends', { ...hourly, include_bots: true })).json.series[0])).toEqual({
      '2026-04-01T10:00:00+00:00': 2,
    });
    const funnel = { steps: ['A', 'B'], ...day, window_seconds: 3600 };
    expect(counts((await q.post('funnel', funnel)).json.steps)).toEqual([2, 1]);
    expect(counts((await q.post('funnel', { ...funnel, include_bots: true })).json.steps)).toEqual([3, 2]);
    const retention = { cohort_event: 'A', return_event: 'B', ...day, period: 'day', periods: 1 };
    expect((await q.post('retention', retention)).json.cohorts[0].size).toBe(2);
    expect((await q.post('retention', { ...retention, include_bots: true })).json.cohorts[0].size).toBe(3);
    const listed = (params: Record<string, string>) =>
      q.get('events', { ...day, event: 'A', ...params }).then((r) => r.json.events.map((e: { distinct_id: string }) => e.distinct_id));
    expect(await listed({})).toEqual(['u2', 'anon-1']);
    expect(await listed({ include_bots: 'true' })).toEqual(['u2', 'crawler', 'anon-1']);
    const schemaCount = async (params: Record<string, string>) =>
      (await q.get('schema', { ...day, ...params })).json.events.find((e: { event: string }) => e.event === 'A')?.count;
    expect(await schemaCount({})).toBe(2);
    expect(await schemaCount({ include_bots: 'true' })).toBe(3);
    expect((await q.get('events', { ...day, include_bots: 'yes' })).status).toBe(400);
  });
});
