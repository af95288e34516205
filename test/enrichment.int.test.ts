import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, TEST_ADMIN_TOKEN, type TestApi, waitFor } from './support/test-api.ts';
import { startTestWorker, type TestWorker } from './support/test-worker.ts';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
// Google's public resolver: the shipped DB-IP City Lite database places it in Mountain View.
const PUBLIC_IP = '8.8.8.8';
const PUBLIC_IP_GEO = { country: 'US', region: 'California', city: 'Mountain View' };

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
/** Trusts the loopback peer (the test) as its proxy: X-Forwarded-For is believed. */
let behindProxy: TestApi;
/** Trusts no proxy: the peer is the client, whatever X-Forwarded-For says. */
let direct: TestApi;
let worker: TestWorker;
let storing: Awaited<ReturnType<typeof createTestProject>>;
let notStoring: Awaited<ReturnType<typeof createTestProject>>;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  behindProxy = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url, env: { TRUSTED_PROXIES: '127.0.0.1, ::1' } });
  direct = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
  worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
  storing = await createTestProject(db.pool, 'stores ips');
  notStoring = await createTestProject(db.pool, 'default settings');
});

afterAll(async () => {
  await worker?.stop();
  await behindProxy?.stop();
  await direct?.stop();
  await redis?.close();
  await db?.drop();
});

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** The stored row of an event, once the worker has written it. */
async function storedEvent(projectId: string, eventId: string) {
  const query = () =>
    db.pool.query<{ context: Record<string, unknown> | null; is_bot: boolean }>(
      'SELECT context, is_bot FROM events WHERE project_id = $1 AND event_id = $2',
      [projectId, eventId],
    );
  await waitFor(async () => (await query()).rowCount === 1, 15_000, `event ${eventId} stored`);
  return (await query()).rows[0]!;
}

describe('project settings', () => {
  it('PATCH changes the given settings, validates them, and answers 404 for an unknown project', async () => {
    const res = await behindProxy.send(`/v1/projects/${storing.project_id}/settings`, {
      method: 'PATCH',
      headers: admin,
      body: { store_ip: true },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      project_id: storing.project_id,
      settings: { allowed_origins: ['*'], store_ip: true, user_agent: true, geoip: true, bot_filtering: true },
    });
    const bad = await behindProxy.send(`/v1/projects/${storing.project_id}/settings`, {
      method: 'PATCH',
      headers: admin,
      body: { store_ip: 'yes', colour: 'red' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_REQUEST');
    for (const id of ['0195f0a0-0000-7000-8000-00000000dead', 'not-a-project']) {
      const missing = await behindProxy.send(`/v1/projects/${id}/settings`, { method: 'PATCH', headers: admin, body: { geoip: false } });
      expect(missing.status).toBe(404);
    }
    const unauthorized = await behindProxy.send(`/v1/projects/${storing.project_id}/settings`, { method: 'PATCH', body: { geoip: false } });
    expect(unauthorized.status).toBe(401);
    const { rows } = await db.pool.query('SELECT settings FROM projects WHERE id = $1', [storing.project_id]);
    expect(rows[0].settings).toEqual({ store_ip: true });
  });
});

describe('project settings that PostgreSQL cannot store', () => {
  it('are refused with a 400 that says why, and the settings stay as they were', async () => {
    const before = (await db.pool.query('SELECT settings FROM projects WHERE id = $1', [notStoring.project_id])).rows[0].settings;
    for (const [origin, why] of [
      ['https://a\u0000b.example', 'NUL'],
      ['https://\ud800x.example', 'unpaired UTF-16 surrogates'],
    ] as const) {
      const res = await direct.send(`/v1/projects/${notStoring.project_id}/settings`, {
        method: 'PATCH',
        headers: admin,
        body: { allowed_origins: [origin] },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.code).toBe('INVALID_REQUEST');
      expect(res.json.error.details[0]).toMatchObject({ path: 'allowed_origins[0]', message: expect.stringContaining(why) });
    }
    expect((await db.pool.query('SELECT settings FROM projects WHERE id = $1', [notStoring.project_id])).rows[0].settings).toEqual(before);
  });
});

describe('enrichment through a trusted proxy', () => {
  it('stores browser, OS, device, country, region, city and (with store_ip) the forwarded client address', async () => {
    const res = await behindProxy.send('/v1/events', {
      key: storing.write_key,
      headers: { 'user-agent': CHROME, 'x-forwarded-for': PUBLIC_IP },
      body: { event: 'page_view', distinct_id: 'u1', event_id: 'chrome-1' },
    });
    expect(res.status).toBe(202);
    const row = await storedEvent(storing.project_id, 'chrome-1');
    expect(row.is_bot).toBe(false);
    expect(row.context).toEqual({
      ip: PUBLIC_IP,
      user_agent: CHROME,
      browser: { name: 'Chrome', version: '126.0.0.0' },
      os: { name: 'Windows', version: 'NT 10.0' },
      device: { type: 'desktop' },
      geo: PUBLIC_IP_GEO,
    });
  });

  it('places IPv4 and IPv6 clients in a country, region and city (one database file per family)', async () => {
    const res = await behindProxy.send('/v1/events', {
      key: notStoring.write_key,
      headers: { 'x-forwarded-for': '2a00:1450:4001:80b::200e' },
      body: { event: 'page_view', distinct_id: 'v6', event_id: 'v6-1' },
    });
    expect(res.status).toBe(202);
    expect((await storedEvent(notStoring.project_id, 'v6-1')).context?.geo).toEqual({
      country: 'DE',
      region: 'Hesse',
      city: 'Frankfurt am Main',
    });
    // A server forwarding its users' events: each is placed by its own address.
    const batch = await behindProxy.send('/v1/batch', {
      key: notStoring.write_key,
      body: {
        events: [
          { event: 'e', distinct_id: 'a', event_id: 'city-london', context: { ip: '81.2.69.160' } },
          { event: 'e', distinct_id: 'b', event_id: 'city-sydney', context: { ip: '1.1.1.1' } },
        ],
      },
    });
    expect(batch.status).toBe(202);
    expect((await storedEvent(notStoring.project_id, 'city-london')).context?.geo).toEqual({
      country: 'GB',
      region: 'England',
      city: 'London',
    });
    expect((await storedEvent(notStoring.project_id, 'city-sydney')).context?.geo).toEqual({
      country: 'AU',
      region: 'New South Wales',
      city: 'Sydney',
    });
  });

  it('reads IPv4-mapped IPv6 addresses in any spelling as their IPv4 address', async () => {
    // '::ffff:808:808' is 8.8.8.8 in hexadecimal; '::ffff:7f00:1' is 127.0.0.1, which no database places.
    const batch = await behindProxy.send('/v1/batch', {
      key: notStoring.write_key,
      body: {
        events: [
          { event: 'e', distinct_id: 'a', event_id: 'mapped-upper', context: { ip: '::FFFF:8.8.8.8' } },
          { event: 'e', distinct_id: 'b', event_id: 'mapped-hex', context: { ip: '::ffff:808:808' } },
          { event: 'e', distinct_id: 'c', event_id: 'mapped-loopback', context: { ip: '::ffff:7f00:1' } },
        ],
      },
    });
    expect(batch.status, JSON.stringify(batch.json)).toBe(202);
    expect(batch.json).toEqual({ accepted: 3, rejected: [] });
    expect((await storedEvent(notStoring.project_id, 'mapped-upper')).context?.geo).toEqual(PUBLIC_IP_GEO);
    expect((await storedEvent(notStoring.project_id, 'mapped-hex')).context?.geo).toEqual(PUBLIC_IP_GEO);
    expect((await storedEvent(notStoring.project_id, 'mapped-loopback')).context).not.toHaveProperty('geo');
    const single = await behindProxy.send('/v1/events', {
      key: notStoring.write_key,
      headers: { 'x-forwarded-for': '::ffff:7f00:1' },
      body: { event: 'e', distinct_id: 'd', event_id: 'mapped-forwarded' },
    });
    expect(single.status, JSON.stringify(single.json)).toBe(202);
  });

  it('takes the rightmost address that is not a trusted proxy, so a client cannot choose its own', async () => {
    await behindProxy.send('/v1/events', {
      key: storing.write_key,
      headers: { 'x-forwarded-for': `1.2.3.4, ${PUBLIC_IP}` },
      body: { event: 'page_view', distinct_id: 'u1', event_id: 'spoof-1' },
    });
    expect((await storedEvent(storing.project_id, 'spoof-1')).context).toMatchObject({ ip: PUBLIC_IP, geo: { country: 'US' } });
  });

  it('without store_ip drops the address but keeps the place', async () => {
    await behindProxy.send('/v1/events', {
      key: notStoring.write_key,
      headers: { 'user-agent': CHROME, 'x-forwarded-for': PUBLIC_IP },
      body: { event: 'page_view', distinct_id: 'u2', event_id: 'no-ip-1', context: { ip: '1.1.1.1', locale: 'de-DE' } },
    });
    const row = await storedEvent(notStoring.project_id, 'no-ip-1');
    // The event named its own address (a server forwarding its user's): placed by it, not stored.
    expect(row.context).toMatchObject({ geo: { country: 'AU' }, locale: 'de-DE', browser: { name: 'Chrome' } });
    expect(row.context?.ip).toBeUndefined();
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE context ? 'ip' AND project_id = $1`, [
      notStoring.project_id,
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('marks a crawler: is_bot and context.bot, and leaves it out of the rollups', async () => {
    await behindProxy.send('/v1/batch', {
      key: storing.write_key,
      headers: { 'user-agent': GOOGLEBOT, 'x-forwarded-for': PUBLIC_IP },
      body: { events: [{ event: 'crawled', distinct_id: 'g', event_id: 'bot-1' }] },
    });
    const row = await storedEvent(storing.project_id, 'bot-1');
    expect(row.is_bot).toBe(true);
    expect(row.context).toMatchObject({ bot: { name: 'Googlebot' }, geo: { country: 'US' } });
    const { rows } = await db.pool.query(
      'SELECT (SELECT count(*)::int FROM events WHERE project_id = $1 AND is_bot) AS bots, (SELECT count(*)::int FROM event_counts_hourly WHERE project_id = $1 AND event = $2) AS rollups',
      [storing.project_id, 'crawled'],
    );
    expect(rows[0]).toEqual({ bots: 1, rollups: 0 });
  });
});

describe('a peer that is not a trusted proxy', () => {
  it('is the client: its X-Forwarded-For is ignored', async () => {
    await direct.send('/v1/events', {
      key: storing.write_key,
      headers: { 'x-forwarded-for': PUBLIC_IP, 'user-agent': CHROME },
      body: { event: 'page_view', distinct_id: 'u3', event_id: 'direct-1' },
    });
    const row = await storedEvent(storing.project_id, 'direct-1');
    expect(row.context?.ip).toBe('127.0.0.1');
    expect(row.context?.geo).toBeUndefined();
    expect(row.context).toMatchObject({ browser: { name: 'Chrome' } });
  });
});
