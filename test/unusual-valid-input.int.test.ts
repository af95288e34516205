import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, TEST_ADMIN_TOKEN, type TestApi, waitFor } from './support/test-api.ts';
import { startTestWorker } from './support/test-worker.ts';

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

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(20261130);
const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
const maybe = (p: number) => next() < p;

const ADDRESSES = [
  '8.8.8.8',
  '0.0.0.0',
  '255.255.255.255',
  '10.1.2.3',
  '127.0.0.1',
  '::',
  '::1',
  '2001:db8::1',
  '2A00:1450:4001:80B::200E',
  '2a00:1450:4001:80b:0:0:0:200e',
  'fe80::1',
  'ff02::1',
  '64:ff9b::808:808',
  '::ffff:8.8.8.8',
  '::FFFF:8.8.8.8',
  '::ffff:808:808',
  '::ffff:7f00:1',
  '::FFFF:C0A8:101',
  '1:2:3:4:5:6:7:8',
];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
  'x',
  'Mözilla/5.0 (Ünïcode; 😀)',
  `Mozilla/5.0 ${'(a; b) '.repeat(141)}`.slice(0, 1000),
];
/** User agents a header can carry (fetch sends ISO-8859-1 at most). */
const HEADER_USER_AGENTS = USER_AGENTS.filter((ua) => /^[\x20-\x7e]*$/.test(ua));
const TEXTS = [
  'a',
  '0',
  ' padded ',
  '__proto__',
  'constructor',
  'toString',
  'Ωμέγα',
  'שלום',
  '日本語のイベント',
  '😀'.repeat(100),
  'tab\there',
  'line\nbreak',
  '"quoted" \\ back',
  '\u00a0\u2028\u2029',
  'z'.repeat(200),
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  123456789.123456789,
];

/** An ISO time near now (within the last six hours or an hour ahead) in one of several spellings. */
function time(): string {
  const at = Date.now() - Math.floor(next() * 6 * 3_600_000) + (maybe(0.1) ? 3_600_000 : 0);
  const iso = new Date(at).toISOString();
  switch (Math.floor(next() * 5)) {
    case 0:
      return iso;
    case 1:
      return `${iso.slice(0, 19)}Z`;
    case 2:
      return `${iso.slice(0, 23)}456789Z`;
    case 3: {
      // The same instant at +05:30.
      const local = new Date(at + 5.5 * 3_600_000).toISOString();
      return `${local.slice(0, 23)}+05:30`;
    }
    default: {
      const local = new Date(at - 12 * 3_600_000).toISOString();
      return `${local.slice(0, 19)}-12:00`;
    }
  }
}

/** A JSON value of at most `depth` levels of objects and arrays. */
function value(depth: number): unknown {
  const kind = Math.floor(next() * (depth > 1 ? 7 : 5));
  if (kind === 0) return pick(TEXTS);
  if (kind === 1) return pick(NUMBERS);
  if (kind === 2) return pick([true, false, null]);
  if (kind === 3) return '';
  if (kind === 4) return pick(['', 'k', '🔑', '__proto__x', 'constructor', 'a.b', 'a[0]', ' ']);
  if (kind === 5) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth - 1));
  return object(depth - 1, Math.floor(next() * 4));
}

function object(depth: number, keys: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys; i++) out[pick(['', 'k', '🔑', 'constructor', 'toString', 'a.b', 'a[0]', ' ', `key${i}`, 'Ω'])] = value(depth);
  return out;
}

/** An object nested exactly `levels` deep (the limit is 10, the object itself is level 1). */
function deepest(levels: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) inner = { [`l${i}`]: inner };
  return inner;
}

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
    const choice = Math.floor(next() * 4);
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
      const events = single ? [unusualEvent()] : Array.from({ length: 1 + Math.floor(next() * 20) }, unusualEvent);
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

    const worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
    try {
      for (const [projectId, count] of accepted) {
        const stored = async () =>
          Number((await db.pool.query('SELECT count(*) AS n FROM events WHERE project_id = $1', [projectId])).rows[0].n);
        await waitFor(async () => (await stored()) >= count, 60_000, `${count} events of project ${projectId} stored`);
        expect(await stored()).toBe(count);
      }
    } finally {
      await worker.stop();
    }
    expect(await redis.client.xlen('eap:dlq')).toBe(0);
    expect([...accepted.values()].reduce((a, b) => a + b, 0)).toBe(eventCounter);
  });
});
