import { gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamEvents, STREAM_ENTRY_VERSION, streamKeys } from '@eap/core';
import { rotateKey } from '@eap/db';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, type TestApi } from './support/test-api.ts';

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let project: Awaited<ReturnType<typeof createTestProject>>;

/** Every event in every shard stream, decoded. */
async function streamEvents() {
  const all = [];
  for (const key of streamKeys(4)) {
    const entries = await redis.client.xrange(key, '-', '+');
    for (const [, fields] of entries) all.push(...decodeStreamEvents(fields));
  }
  return all;
}

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  api = await startTestApi({
    databaseUrl: db.url,
    redisUrl: redis.url,
    env: { KEY_CACHE_TTL_MS: '200', KEY_NEGATIVE_CACHE_TTL_MS: '100' },
  });
  project = await createTestProject(db.pool, 'ingest');
});

afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

describe('POST /v1/batch', () => {
  it('accepts valid events, rejects invalid ones individually, and appends exactly the accepted ones', async () => {
    await redis.client.flushdb();
    const events = [
      { event: 'page_view', distinct_id: 'u1', properties: { path: '/' } },
      { event: '', distinct_id: 'u1' },
      {
        event: 'signup',
        distinct_id: 'u2',
        event_id: 'client-id-1',
        session_id: 's1',
        context: { ip: '10.0.0.1', library: { name: 'eap-js', version: '1.0.0' } },
      },
      { event: 'x', distinct_id: 'u3', distinctId: 'typo' },
    ];
    const res = await api.send('/v1/batch', { key: project.write_key, body: { events } });
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(2);
    expect(res.json.rejected.map((r: { index: number }) => r.index)).toEqual([1, 3]);
    expect(res.json.rejected[1].errors).toEqual([{ path: 'distinctId', message: 'unknown field "distinctId" is not allowed' }]);
    const stored = await streamEvents();
    expect(stored).toHaveLength(2);
    expect(stored.map((e) => e.event).sort()).toEqual(['page_view', 'signup']);
    expect(stored.every((e) => e.project_id === project.project_id)).toBe(true);
    const signup = stored.find((e) => e.event === 'signup')!;
    expect(signup.event_id).toBe('client-id-1');
    expect(signup.session_id).toBe('s1');
    // The client's context is kept; its ip is not, as the project does not store IPs (store_ip).
    expect(signup.context).toMatchObject({ library: { name: 'eap-js', version: '1.0.0' } });
    expect(signup.context?.ip).toBeUndefined();
    const pageView = stored.find((e) => e.event === 'page_view')!;
    expect(pageView.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pageView.properties).toEqual({ path: '/' });
  });

  it('answers 202 with every event rejected when none is valid', async () => {
    const res = await api.send('/v1/batch', { key: project.write_key, body: { events: [{ event: 1 }, {}] } });
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(0);
    expect(res.json.rejected).toHaveLength(2);
    expect(res.json.rejected[1].errors.map((e: { path: string }) => e.path).sort()).toEqual(['distinct_id', 'event']);
  });

  it('refuses an envelope that is not {events:[...]} and batches over 1,000 events with 400', async () => {
    for (const body of [[], { events: [] }, { events: 'x' }, { event: 'a', distinct_id: 'b' }, { events: [{}], extra: 1 }]) {
      const res = await api.send('/v1/batch', { key: project.write_key, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('INVALID_REQUEST');
    }
    const big = { events: Array.from({ length: 1001 }, (_, i) => ({ event: 'e', distinct_id: `u${i}` })) };
    const res = await api.send('/v1/batch', { key: project.write_key, body: big });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('BATCH_TOO_LARGE');
  });

  it('corrects client clock skew with sent_at, clamps far-future times and keeps the raw timestamp', async () => {
    await redis.client.flushdb();
    // The client clock runs 1 hour fast: its "now" is sent_at.
    const before = Date.now();
    const clientNow = before + 3_600_000;
    const events = [
      { event: 'skewed', distinct_id: 'u', timestamp: new Date(clientNow - 10_000).toISOString() },
      { event: 'no_time', distinct_id: 'u' },
    ];
    const res = await api.send('/v1/batch', { key: project.write_key, body: { sent_at: new Date(clientNow).toISOString(), events } });
    expect(res.json.accepted).toBe(2);
    const after = Date.now();
    const stored = await streamEvents();
    const skewed = stored.find((e) => e.event === 'skewed')!;
    const t = Date.parse(skewed.timestamp);
    // Corrected: 10 s before the server received it.
    expect(t).toBeGreaterThanOrEqual(before - 10_000);
    expect(t).toBeLessThanOrEqual(after - 10_000);
    expect(skewed.client_timestamp).toBe(events[0]!.timestamp);
    const noTime = stored.find((e) => e.event === 'no_time')!;
    expect(noTime.timestamp).toBe(noTime.received_at);
    expect(noTime.client_timestamp).toBeNull();

    await redis.client.flushdb();
    const future = new Date(Date.now() + 48 * 3_600_000).toISOString();
    const near = new Date(Date.now() + 3_600_000).toISOString();
    await api.send('/v1/batch', {
      key: project.write_key,
      body: {
        events: [
          { event: 'future', distinct_id: 'u', timestamp: future },
          { event: 'near', distinct_id: 'u', timestamp: near },
        ],
      },
    });
    const stored2 = await streamEvents();
    const f = stored2.find((e) => e.event === 'future')!;
    expect(f.timestamp).toBe(f.received_at);
    expect(f.client_timestamp).toBe(future);
    expect(stored2.find((e) => e.event === 'near')!.timestamp).toBe(near);
  });

  it('spreads a request over the shard streams, one entry per shard with a schema version and its number of events', async () => {
    await redis.client.flushdb();
    const events = Array.from({ length: 200 }, (_, i) => ({ event: 'e', distinct_id: `user-${i}` }));
    const res = await api.send('/v1/batch', { key: project.write_key, body: { events } });
    expect(res.json.accepted).toBe(200);
    const lengths = await Promise.all(streamKeys(4).map((k) => redis.client.xlen(k)));
    expect(lengths).toEqual([1, 1, 1, 1]);
    let total = 0;
    for (const key of streamKeys(4)) {
      const [entry] = (await redis.client.xrange(key, '-', '+')) as [string, string[]][];
      const fields = entry![1];
      expect(fields.slice(0, 3)).toEqual(['v', String(STREAM_ENTRY_VERSION), 'n']);
      const stored = decodeStreamEvents(fields);
      expect(stored).toHaveLength(Number(fields[3]));
      // In the order of the request.
      const order = stored.map((e) => Number(e.distinct_id.slice(5)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      total += stored.length;
    }
    expect(total).toBe(200);
  });
});

describe('POST /v1/events', () => {
  it('accepts one event with 202 and rejects an invalid one with 400 and field errors', async () => {
    const ok = await api.send('/v1/events', {
      key: project.write_key,
      body: { event: 'a', distinct_id: 'b', sent_at: new Date().toISOString() },
    });
    expect(ok.status).toBe(202);
    expect(ok.json).toEqual({ accepted: 1, rejected: [] });
    expect(ok.headers.get('x-request-id')).toBeTruthy();
    const bad = await api.send('/v1/events', { key: project.write_key, body: { event: 'a', distinct_id: 'b', timestamp: 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_EVENT');
    expect(bad.json.error.details[0].path).toBe('timestamp');
    const arr = await api.send('/v1/events', { key: project.write_key, body: [{ event: 'a', distinct_id: 'b' }] });
    expect(arr.status).toBe(400);
    const badSentAt = await api.send('/v1/events', { key: project.write_key, body: { event: 'a', distinct_id: 'b', sent_at: 'soon' } });
    expect(badSentAt.status).toBe(400);
    expect(badSentAt.json.error.details[0].path).toBe('sent_at');
    const nullSentAt = await api.send('/v1/events', { key: project.write_key, body: { event: 'a', distinct_id: 'b', sent_at: null } });
    expect(nullSentAt.status).toBe(400);
  });
});

describe('authentication', () => {
  it('answers 401 with one message for a missing and an unknown key, never echoing the key', async () => {
    const missing = await api.send('/v1/events', { body: { event: 'a', distinct_id: 'b' } });
    const unknown = await api.send('/v1/events', { key: 'eap_w_not-a-real-key-123', body: { event: 'a', distinct_id: 'b' } });
    expect(missing.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toEqual(missing.json.error);
    expect(unknown.text).not.toContain('not-a-real-key');
  });

  it('accepts X-Api-Key, and refuses a read key with 403', async () => {
    const viaHeader = await api.send('/v1/events', { headers: { 'x-api-key': project.write_key }, body: { event: 'a', distinct_id: 'b' } });
    expect(viaHeader.status).toBe(202);
    const read = await api.send('/v1/events', { key: project.read_key, body: { event: 'a', distinct_id: 'b' } });
    expect(read.status).toBe(403);
    expect(read.json.error.code).toBe('FORBIDDEN');
  });

  it("attributes events to the key's own project: another project's key cannot write into this one", async () => {
    await redis.client.flushdb();
    const other = await createTestProject(db.pool, 'other');
    await api.send('/v1/events', { key: other.write_key, body: { event: 'from-other', distinct_id: 'x' } });
    await api.send('/v1/events', { key: project.write_key, body: { event: 'from-mine', distinct_id: 'x' } });
    const stored = await streamEvents();
    expect(stored.find((e) => e.event === 'from-other')!.project_id).toBe(other.project_id);
    expect(stored.find((e) => e.event === 'from-mine')!.project_id).toBe(project.project_id);
  });

  it('stops accepting a revoked key within the cache TTL, and accepts the rotated one', async () => {
    const p = await createTestProject(db.pool, 'rotating');
    expect((await api.send('/v1/events', { key: p.write_key, body: { event: 'a', distinct_id: 'b' } })).status).toBe(202);
    const rotated = await rotateKey(db.pool, p.project_id, 'write');
    // KEY_CACHE_TTL_MS is 200 in this file: after it, the old key must be refused.
    await new Promise((r) => setTimeout(r, 250));
    expect((await api.send('/v1/events', { key: p.write_key, body: { event: 'a', distinct_id: 'b' } })).status).toBe(401);
    expect((await api.send('/v1/events', { key: rotated!.key, body: { event: 'a', distinct_id: 'b' } })).status).toBe(202);
  });
});

describe('body handling', () => {
  it('accepts gzip and deflate bodies', async () => {
    const body = JSON.stringify({ events: [{ event: 'zipped', distinct_id: 'u' }] });
    for (const [encoding, data] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
    ] as const) {
      const res = await api.send('/v1/batch', { key: project.write_key, raw: data, headers: { 'content-encoding': encoding } });
      expect(res.status, encoding).toBe(202);
      expect(res.json.accepted).toBe(1);
    }
  });

  it('answers 413 for bodies over 1 MiB, raw or decompressed, and survives a gzip bomb', async () => {
    const big = JSON.stringify({ events: [{ event: 'e', distinct_id: 'u', properties: { s: 'x'.repeat(1024 * 1024) } }] });
    const raw = await api.send('/v1/batch', { key: project.write_key, raw: big });
    expect(raw.status).toBe(413);
    expect(raw.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    // 64 MiB of zeros compresses to about 64 KiB: far under the raw limit, far over the decompressed one.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const res = await api.send('/v1/batch', { key: project.write_key, raw: bomb, headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(413);
    expect((await api.send('/v1/events', { key: project.write_key, body: { event: 'still', distinct_id: 'alive' } })).status).toBe(202);
  });

  it('answers 415 for other content types and encodings, 400 for broken gzip', async () => {
    const xml = await api.send('/v1/events', { key: project.write_key, raw: '<e/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.status).toBe(415);
    expect(xml.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const br = await api.send('/v1/events', { key: project.write_key, raw: '{}', headers: { 'content-encoding': 'br' } });
    expect(br.status).toBe(415);
    const broken = await api.send('/v1/events', {
      key: project.write_key,
      raw: 'not gzip at all',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(broken.status).toBe(400);
  });

  it('rejects properties over 32 KiB or deeper than 10 levels, per event', async () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10; i++) deep = { d: deep };
    const events = [
      { event: 'big', distinct_id: 'u', properties: { s: 'x'.repeat(33 * 1024) } },
      { event: 'deep', distinct_id: 'u', properties: deep },
      { event: 'fine', distinct_id: 'u', properties: { s: 'x'.repeat(30 * 1024) } },
    ];
    const res = await api.send('/v1/batch', { key: project.write_key, body: { events } });
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(1);
    expect(res.json.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1]);
    expect(res.json.rejected[0].errors[0].message).toMatch(/limit is 32768 bytes/);
    expect(res.json.rejected[1].errors[0].message).toMatch(/deeper than 10 levels/);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a key exhausts its bucket', async () => {
    const limited = await startTestApi({
      databaseUrl: db.url,
      redisUrl: redis.url,
      env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await limited.send('/v1/events', { key: project.write_key, body: { event: 'a', distinct_id: 'b' } })).status);
      expect(statuses.slice(0, 3)).toEqual([202, 202, 202]);
      expect(statuses.slice(3)).toEqual([429, 429]);
      const res = await limited.send('/v1/events', { key: project.write_key, body: { event: 'a', distinct_id: 'b' } });
      expect(res.json.error.code).toBe('RATE_LIMITED');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Another key has its own bucket.
      const other = await createTestProject(db.pool, 'other-bucket');
      expect((await limited.send('/v1/events', { key: other.write_key, body: { event: 'a', distinct_id: 'b' } })).status).toBe(202);
    } finally {
      await limited.stop();
    }
  });
});

describe('admin and docs routes', () => {
  it('creates a project with the admin token and refuses without it', async () => {
    const denied = await api.send('/v1/projects', { body: { name: 'x' } });
    expect(denied.status).toBe(401);
    const created = await api.send('/v1/projects', {
      body: { name: 'via-api' },
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual(['name', 'project_id', 'read_key', 'write_key']);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM api_keys WHERE project_id = $1', [created.json.project_id]);
    expect(rows[0].n).toBe(2);
    expect((await api.send('/v1/events', { key: created.json.write_key, body: { event: 'a', distinct_id: 'b' } })).status).toBe(202);
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const doc = await api.send('/openapi.json', { method: 'GET' });
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe('3.1.0');
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/batch', '/v1/projects']));
    const ui = await fetch(`${api.baseUrl}/docs/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await api.send('/v1/nope', { method: 'GET' });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('NOT_FOUND');
  });

  it('reports readiness and exports metrics on the admin port', async () => {
    const ready = await fetch(`${api.adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect((await fetch(`${api.adminUrl}/livez`)).status).toBe(200);
    const metrics = await (await fetch(`${api.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^eap_api_events_accepted_total \d+/m);
    expect(metrics).toContain('eap_api_request_duration_seconds_bucket{le="0.0005"');
    expect(metrics).toContain('eap_api_process_cpu_seconds_total');
  });
});
