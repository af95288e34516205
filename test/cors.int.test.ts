import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, TEST_ADMIN_TOKEN, type TestApi, waitFor } from './support/test-api.ts';
import { startTestWorker, type TestWorker } from './support/test-worker.ts';

const SHOP = 'https://shop.example.com';
const EVIL = 'https://evil.example.net';

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let worker: TestWorker;
let restricted: Awaited<ReturnType<typeof createTestProject>>;
let open: Awaited<ReturnType<typeof createTestProject>>;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
  worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
  restricted = await createTestProject(db.pool, 'shop only');
  open = await createTestProject(db.pool, 'any origin');
  const res = await api.send(`/v1/projects/${restricted.project_id}/settings`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: { allowed_origins: [`${SHOP}/`] },
  });
  expect(res.json.settings.allowed_origins).toEqual([SHOP]);
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

async function rows(projectId: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [projectId]);
  return rows[0]!.n;
}

const send = (key: string, origin: string | undefined, body: unknown, path = '/v1/events') =>
  api.send(path, { key, body, headers: origin === undefined ? {} : { origin } });

/** A preflight as browsers send it: no body, no Content-Type, no key. */
const preflight = (path: string, headers: Record<string, string>) => fetch(api.baseUrl + path, { method: 'OPTIONS', headers });

describe('preflight', () => {
  it.each(['/v1/events', '/v1/batch', '/v1/batch/'])('answers OPTIONS %s: 204, origin and requested headers echoed', async (path) => {
    const res = await preflight(path, {
      origin: EVIL,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization, bad header',
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(EVIL);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(res.headers.get('access-control-max-age')).toBe('86400');
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('is not answered for routes that are not ingest routes', async () => {
    const res = await preflight('/v1/projects', { origin: EVIL, 'access-control-request-method': 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('requests from browsers', () => {
  it("stores an allowed origin's events and names the origin; refuses others with 403 ORIGIN_NOT_ALLOWED; server-side senders always pass", async () => {
    const allowed = await send(restricted.write_key, SHOP, { event: 'e', distinct_id: 'u', event_id: 'shop-1' });
    expect(allowed.status).toBe(202);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    await waitFor(async () => (await rows(restricted.project_id)) === 1, 15_000, 'allowed event stored');

    const denied = await send(restricted.write_key, EVIL, { event: 'e', distinct_id: 'u', event_id: 'evil-1' });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    const deniedBatch = await send(
      restricted.write_key,
      EVIL,
      { events: [{ event: 'e', distinct_id: 'u', event_id: 'evil-2' }] },
      '/v1/batch',
    );
    expect(deniedBatch.status).toBe(403);

    const server = await send(restricted.write_key, undefined, { event: 'e', distinct_id: 'u', event_id: 'server-1' });
    expect(server.status).toBe(202);
    expect(server.headers.get('access-control-allow-origin')).toBeNull();
    // The denied events were never appended: only the two others reach the table.
    await waitFor(async () => (await rows(restricted.project_id)) === 2, 15_000, 'server-side event stored');
    const { rows: ids } = await db.pool.query('SELECT event_id FROM events WHERE project_id = $1 ORDER BY event_id', [
      restricted.project_id,
    ]);
    expect(ids.map((r) => r.event_id)).toEqual(['server-1', 'shop-1']);
  });

  it('lets any origin send to a project with the default settings', async () => {
    const res = await send(open.write_key, EVIL, { event: 'e', distinct_id: 'u', event_id: 'open-1' });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe(EVIL);
    await waitFor(async () => (await rows(open.project_id)) === 1, 15_000, 'event stored');
  });

  it('names the origin on error responses, so the browser can read them', async () => {
    const invalid = await send(restricted.write_key, SHOP, { event: '', distinct_id: 'u' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(invalid.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
    const malformed = await api.send('/v1/batch', { key: restricted.write_key, raw: '{"events": [', headers: { origin: SHOP } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('access-control-allow-origin')).toBe(SHOP);
    // No key, no project: answered like the preflight, so the 401 is readable.
    const unknownKey = await api.send('/v1/events', { body: { event: 'e', distinct_id: 'u' }, headers: { origin: EVIL } });
    expect(unknownKey.status).toBe(401);
    expect(unknownKey.headers.get('access-control-allow-origin')).toBe(EVIL);
  });
});
