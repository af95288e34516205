import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, TEST_ADMIN_TOKEN, type TestApi } from './support/test-api.ts';
import { storeWithWorker } from './support/test-worker.ts';
import { ADDRESSES, deepest, HEADER_USER_AGENTS, NUMBERS, TEXTS, USER_AGENTS, unusualValues } from './support/unusual-values.ts';

/**
 * Valid events made of unusual values (the malformed-input corpus covers invalid ones): every
 * event here is valid by the documented contract, so every one must be accepted and stored, never
 * answered with a 5xx. Events are drawn from pools of values at the edges of what the contract
 * allows (addresses in every spelling, the longest and the most exotic strings, numbers at the
 * ends of their range, the deepest objects, time zones), with a fixed seed, sent one by one and
 * in batches, through a trusted proxy with forwarded addresses, to a project with default
 * settings and one that stores addresses. A worker then stores them; the rows are counted.
 */

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let projects: Awaited<ReturnType<typeof createTestProject>>[];

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  await redis.client.flushdb();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url, env: { TRUSTED_PROXIES: '127.0.0.1, ::1' } });
  const storing = await createTestProject(db.pool, 'unusual, stores addresses');
  const patched = await api.send(`/v1/projects/${storing.project_id}/settings`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: { store_ip: true },
  });
  expect(patched.status).toBe(200);
  projects = [await createTestProject(db.pool, 'unusual, default settings'), storing];
});

afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

const { int, pick, maybe, time, object } = unusualValues(20261130);

let eventCounter = 0;

function unusualEvent(): Record<string, unknown> {
  const n = ++eventCounter;
  const event: Record<string, unknown> = {
    event: maybe(0.3) ? pick(TEXTS) : pick(['$pageview', 'page_view', 'Signed Up', 'e']),
    distinct_id: pick(TEXTS),
  };
  if (maybe(0.5)) {
    // Unique, or the copies would be stored once and the count would not add up.
    const id = pick(['0195F0A0-0000-7000-8000-', 'id-', '日本-', '😀-', 'x'.repeat(110)]);
    event.event_id = `${id}${n}`;
  }
  if (maybe(0.6)) event.timestamp = time();
  if (maybe(0.3)) event.session_id = pick(TEXTS);
  if (maybe(0.8)) {
    const choice = int(4);
    event.properties =
      choice === 0 ? {} : choice === 1 ? deepest(10) : choice === 2 ? { big: 'p'.repeat(30_000), n: pick(NUMBERS) } : object(4, 6);
  }
  if (maybe(0.7)) {
    const context: Record<string, unknown> = {};
    if (maybe(0.6)) context.ip = pick(ADDRESSES);
    if (maybe(0.5)) context.user_agent = pick(USER_AGENTS);
    if (maybe(0.3))
      context.library = maybe(0.5) ? { name: pick(TEXTS) } : { name: 'eap-js', version: pick(['1', '0.0.1-beta.1+sha', '日本']) };
    if (maybe(0.3)) context.app = object(3, 3);
    if (maybe(0.1)) Object.assign(context, deepest(10));
    event.context = context;
  }
  return event;
}

function headers(): Record<string, string> {
  const out: Record<string, string> = {};
  if (maybe(0.7)) out['x-forwarded-for'] = maybe(0.3) ? `${pick(ADDRESSES)}, ${pick(ADDRESSES)}` : pick(ADDRESSES);
  if (maybe(0.7)) out['user-agent'] = pick(HEADER_USER_AGENTS);
  return out;
}

describe('valid events of unusual values', () => {
  it('are all accepted, one by one and in batches, and every one is stored', async () => {
    const accepted = new Map<string, number>(projects.map((p) => [p.project_id, 0]));
    const failures: string[] = [];
    for (let r = 0; r < 400 && failures.length < 5; r++) {
      const project = pick(projects);
      const single = r % 3 !== 0;
      const events = single ? [unusualEvent()] : Array.from({ length: 1 + int(20) }, unusualEvent);
      const sentAt = maybe(0.3) ? time() : undefined;
      const body = single ? { ...events[0], ...(sentAt ? { sent_at: sentAt } : {}) } : { ...(sentAt ? { sent_at: sentAt } : {}), events };
      const res = await api.send(single ? '/v1/events' : '/v1/batch', { key: project.write_key, headers: headers(), body });
      if (res.status !== 202 || res.json.accepted !== events.length) {
        failures.push(`request ${r}: ${res.status} ${JSON.stringify(res.json).slice(0, 600)} for ${JSON.stringify(body).slice(0, 600)}`);
        continue;
      }
      expect(res.json.rejected).toEqual([]);
      accepted.set(project.project_id, (accepted.get(project.project_id) ?? 0) + events.length);
    }
    expect(failures).toEqual([]);
    expect((await fetch(`${api.adminUrl}/livez`)).status).toBe(200);

    expect(await storeWithWorker({ databaseUrl: db.url, redisUrl: redis.url, pool: db.pool }, accepted)).toEqual(accepted);
    expect(await redis.client.xlen('eap:dlq')).toBe(0);
    expect([...accepted.values()].reduce((a, b) => a + b, 0)).toBe(eventCounter);
  });
});
