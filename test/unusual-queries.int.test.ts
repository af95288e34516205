import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, type TestApi } from './support/test-api.ts';
import { storeWithWorker } from './support/test-worker.ts';
import { NUMBERS, TEXTS, unusualValues } from './support/unusual-values.ts';

/**
 * Valid queries of unusual values: every query API (trends, funnel, retention, events, schema,
 * persons) asked with property names and filter values at the edges of what the contract allows
 * (any text, LIKE wildcards, quotes, numbers at the ends of their range), time zones with odd
 * offsets and DST rules, ranges given as dates or as times with offsets, over events with
 * properties of every JSON type. Every query is valid, so every answer must be a 200.
 */

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let project: Awaited<ReturnType<typeof createTestProject>>;

const { int, pick, maybe, object } = unusualValues(20261202);
const EVENTS = ['page_view', 'Signed Up', 'Ωμέγα', '$identify', '😀'.repeat(100)];
/** Property names: the pool's texts, and what SQL, LIKE and JSON paths treat specially. */
const PROPERTIES = [...TEXTS, 'plan', 'n', "it's", 'a"b', 'back\\slash', '100%', 'under_score', 'a.b', '{x}', '-', ' '];
const STORED_NAMES = PROPERTIES.filter((name) => name !== '__proto__');
const ZONES = [
  'UTC',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/St_Johns',
  'Europe/Dublin',
  'Australia/Lord_Howe',
  'Etc/GMT+12',
  'Pacific/Kiritimati',
];
const DAY = 86_400_000;
/** Texts short enough to take a suffix and stay a valid distinct id (at most 200 characters). */
const SHORT_TEXTS = TEXTS.filter((t) => t.length <= 190);
const now = Date.now();

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  await redis.client.flushdb();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
  project = await createTestProject(db.pool, 'unusual queries');
  // Ten days of events whose properties hold every JSON type under the names queried.
  let sent = 0;
  for (let b = 0; b < 20; b++) {
    const events = Array.from({ length: 50 }, (_, i) => {
      const properties: Record<string, unknown> = { ...object(2, 3) };
      // An own "__proto__" key is refused at ingest; queries still ask for it.
      for (const name of [pick(STORED_NAMES), pick(STORED_NAMES), 'plan', 'n']) {
        properties[name] = pick([pick(TEXTS), pick(NUMBERS), true, null, { nested: 1 }, [1, 'a'], '100%', 'a_b', 'x\\']);
      }
      const event: Record<string, unknown> = {
        event: pick(EVENTS),
        distinct_id: `${pick(SHORT_TEXTS)}-${i % 7}`,
        timestamp: new Date(now - int(10 * DAY)).toISOString(),
        properties,
      };
      if (event.event === '$identify') properties.$set = { plan: pick(['pro', 'free', '日本']), n: pick(NUMBERS) };
      return event;
    });
    const res = await api.send('/v1/batch', { key: project.write_key, body: { events } });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json.rejected, JSON.stringify(res.json.rejected)).toEqual([]);
    sent += events.length;
  }
  const expected = new Map([[project.project_id, sent]]);
  expect(await storeWithWorker({ databaseUrl: db.url, redisUrl: redis.url, pool: db.pool }, expected)).toEqual(expected);
});

afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

/** A range of `days` ending near now, as dates or as times with an offset. */
function range(days: number): { from: string; to: string } {
  const to = now + DAY - int(2 * DAY);
  const from = to - Math.max(1, days) * DAY + int(3_600_000);
  if (maybe(0.4)) return { from: new Date(from).toISOString().slice(0, 10), to: new Date(to + DAY).toISOString().slice(0, 10) };
  const at = (ms: number) =>
    maybe(0.5) ? new Date(ms).toISOString() : `${new Date(ms + 5.75 * 3_600_000).toISOString().slice(0, 19)}+05:45`;
  return { from: at(from), to: at(to) };
}

function filter(): Record<string, unknown> {
  const operator = pick(['eq', 'neq', 'contains', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set']);
  const out: Record<string, unknown> = { property: pick(PROPERTIES), operator };
  if (maybe(0.3)) out.source = 'person';
  if (operator === 'contains') out.value = pick([...TEXTS, '%', '_', '\\', 'x\\', '100%', "'", '']);
  else if (['gt', 'gte', 'lt', 'lte'].includes(operator)) out.value = pick(NUMBERS);
  else if (operator === 'eq' || operator === 'neq') out.value = pick([pick(TEXTS), pick(NUMBERS), true, false, '']);
  return out;
}

const filters = () => Array.from({ length: int(4) }, filter);

function trends(): Record<string, unknown> {
  const interval = pick(['minute', 'hour', 'day', 'week', 'month']);
  const days = interval === 'minute' ? 1 : interval === 'hour' ? 1 + int(30) : 1 + int(60);
  const measure = pick(['count', 'unique_users', 'sum', 'avg']);
  const body: Record<string, unknown> = {
    events: Array.from({ length: 1 + int(3) }, () => pick(EVENTS)),
    ...range(days),
    interval,
    measure,
    timezone: pick(ZONES),
    include_bots: maybe(0.5),
  };
  if (interval === 'minute') {
    // At most 2,000 buckets, and at most 50,000 points with 3 events of 26 series each.
    const to = now - int(DAY);
    body.from = new Date(to - 600 * 60_000).toISOString();
    body.to = new Date(to).toISOString();
  }
  if (measure === 'sum' || measure === 'avg' || maybe(0.2)) body.property = pick(PROPERTIES);
  if (measure === 'unique_users') body.count_by = pick(['distinct_id', 'person']);
  if (maybe(0.5)) body.breakdown = pick(PROPERTIES);
  if (maybe(0.3)) body.breakdown_limit = 1 + int(25);
  if (maybe(0.6)) body.filters = filters();
  return body;
}

function funnel(): Record<string, unknown> {
  const body: Record<string, unknown> = {
    steps: Array.from({ length: 2 + int(4) }, () => (maybe(0.5) ? pick(EVENTS) : { event: pick(EVENTS), filters: filters() })),
    ...range(1 + int(30)),
    window_seconds: pick([1, 60, 86_400, 90 * 86_400]),
    count_by: pick(['distinct_id', 'person']),
    timezone: pick(ZONES),
  };
  if (maybe(0.5)) body.breakdown = pick(PROPERTIES);
  return body;
}

function retention(): Record<string, unknown> {
  return {
    cohort_event: pick(EVENTS),
    return_event: pick(EVENTS),
    ...range(1 + int(30)),
    period: pick(['day', 'week']),
    periods: 1 + int(12),
    count_by: pick(['distinct_id', 'person']),
    timezone: pick(ZONES),
  };
}

function eventsQuery(): string {
  const params = new URLSearchParams({ ...range(1 + int(10)), limit: String(1 + int(1000)), timezone: pick(ZONES) });
  if (maybe(0.5)) params.append('event', pick(EVENTS));
  if (maybe(0.3)) params.append('distinct_id', `${pick(SHORT_TEXTS)}-${int(7)}`);
  if (maybe(0.5)) params.append('properties', JSON.stringify({ [pick(PROPERTIES)]: pick([pick(TEXTS), pick(NUMBERS), true]) }));
  return `/v1/query/events?${params}`;
}

describe('valid queries of unusual values', () => {
  it('are all answered with a 200, whatever their names, values, time zones and ranges', async () => {
    const failures: string[] = [];
    for (let r = 0; r < 160 && failures.length < 5; r++) {
      const kind = pick(['trends', 'funnel', 'retention', 'events', 'schema', 'persons'] as const);
      let path: string;
      let init: { key: string; body?: unknown; method?: string } = { key: project.read_key };
      if (kind === 'trends' || kind === 'funnel' || kind === 'retention') {
        path = `/v1/query/${kind}`;
        init = { ...init, body: kind === 'trends' ? trends() : kind === 'funnel' ? funnel() : retention() };
      } else if (kind === 'events') {
        path = eventsQuery();
        init.method = 'GET';
      } else if (kind === 'schema') {
        path = `/v1/query/schema?${new URLSearchParams({ ...range(1 + int(30)), timezone: pick(ZONES) })}`;
        init.method = 'GET';
      } else {
        path = `/v1/persons/${encodeURIComponent(`${pick(SHORT_TEXTS)}-${int(7)}`)}`;
        init.method = 'GET';
      }
      const res = await api.send(path, init);
      // A person that never sent $identify has no person: 404 is its documented answer.
      const ok = res.status === 200 || (kind === 'persons' && res.status === 404);
      if (!ok)
        failures.push(
          `${kind} ${res.status} ${JSON.stringify(res.json).slice(0, 500)} for ${path} ${JSON.stringify(init.body ?? '').slice(0, 600)}`,
        );
    }
    expect(failures).toEqual([]);
  });
});
