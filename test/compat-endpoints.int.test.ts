import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { waitUntilDrained } from './support/stream-fixtures.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, type TestApi, waitFor } from './support/test-api.ts';
import { startTestWorker, type TestWorker } from './support/test-worker.ts';

/**
 * The SDK-compatible endpoints (docs/sdk-endpoints.md) through a real API, Redis, worker and
 * PostgreSQL, with the exact request shapes the real SDKs send (design/sdk-clients.md): rows in
 * PostgreSQL with the right names, ids, times and properties; invalid events reported; retries
 * with the same ids (and a new send time) stored once.
 */

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let worker: TestWorker;
let project: Awaited<ReturnType<typeof createTestProject>>;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
  worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
});
beforeEach(async () => {
  project = await createTestProject(db.pool, 'compat');
});
afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

interface Row {
  event: string;
  distinct_id: string;
  event_id: string;
  timestamp: Date;
  session_id: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown> | null;
}

async function rows(): Promise<Row[]> {
  const { rows } = await db.pool.query(
    'SELECT event, distinct_id, event_id, "timestamp", session_id, properties, context FROM events WHERE project_id = $1 ORDER BY event_id',
    [project.project_id],
  );
  return rows;
}

async function rowsWhenStored(count: number): Promise<Row[]> {
  await waitFor(async () => (await rows()).length >= count, 20_000, `${count} rows stored`);
  return rows();
}

const drained = () => waitUntilDrained(redis.client);

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const byId = (list: Row[], id: string) => list.find((r) => r.event_id === id)!;

describe('Segment', () => {
  const messages = (stamp: string) => [
    {
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      properties: { total: 30 },
      timestamp: stamp,
      messageId: 'seg-1',
      context: { library: { name: '@segment/analytics-node', version: '3.1.0' }, locale: 'de-DE' },
      _metadata: { jsRuntime: 'node' },
      integrations: {},
    },
    { type: 'identify', userId: 'u1', anonymousId: 'a1', traits: { plan: 'pro' }, timestamp: stamp, messageId: 'seg-2' },
    { type: 'page', anonymousId: 'a1', name: 'Home', properties: { url: 'https://shop.test/' }, timestamp: stamp, messageId: 'seg-3' },
    { type: 'screen', userId: 'u1', name: 'Cart', timestamp: stamp, messageId: 'seg-4' },
    { type: 'group', userId: 'u1', groupId: 'acme', traits: { seats: 5 }, timestamp: stamp, messageId: 'seg-5' },
    { type: 'alias', userId: 'u1', previousId: 'a1', timestamp: stamp, messageId: 'seg-6' },
  ];

  it('analytics-node: /v1/batch with HTTP Basic, skew-corrected by sentAt; a retry with a new sentAt stores nothing twice', async () => {
    // The client clock runs 60 s ahead; its events happened 1 s before it sent them.
    const clientNow = Date.now() + 60_000;
    const body = {
      batch: messages(new Date(clientNow - 1000).toISOString()),
      writeKey: project.write_key,
      sentAt: new Date(clientNow).toISOString(),
    };
    const before = Date.now();
    const answer = await api.send('/v1/batch', { raw: JSON.stringify(body), headers: { authorization: basic(project.write_key) } });
    const after = Date.now();
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ success: true, accepted: 6, rejected: [] });
    const stored = await rowsWhenStored(6);
    expect(stored.map((r) => [r.event_id, r.event, r.distinct_id])).toEqual([
      ['seg-1', 'Order Completed', 'u1'],
      ['seg-2', '$identify', 'u1'],
      ['seg-3', '$pageview', 'a1'],
      ['seg-4', '$screen', 'u1'],
      ['seg-5', '$groupidentify', 'u1'],
      ['seg-6', '$create_alias', 'u1'],
    ]);
    for (const row of stored) {
      expect(row.timestamp.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(row.timestamp.getTime()).toBeLessThanOrEqual(after - 1000);
    }
    expect(byId(stored, 'seg-1').properties).toEqual({ total: 30 });
    expect(byId(stored, 'seg-1').context).toMatchObject({
      library: { name: '@segment/analytics-node', version: '3.1.0' },
      locale: 'de-DE',
    });
    expect(byId(stored, 'seg-2').properties).toEqual({ $set: { plan: 'pro' }, $anon_distinct_id: 'a1' });
    expect(byId(stored, 'seg-3').properties).toEqual({ url: 'https://shop.test/', $page_name: 'Home', $current_url: 'https://shop.test/' });
    expect(byId(stored, 'seg-5').properties).toEqual({ $group_type: 'group', $group_key: 'acme', $group_set: { seats: 5 } });
    expect(byId(stored, 'seg-6').properties).toEqual({ alias: 'a1' });

    // The SDK's retry: the same messages, a new sentAt, X-Retry-Count.
    const retry = { ...body, sentAt: new Date(clientNow + 1600).toISOString() };
    const again = await api.send('/v1/batch', {
      raw: JSON.stringify(retry),
      headers: { authorization: basic(project.write_key), 'x-retry-count': '1' },
    });
    expect(again.json).toMatchObject({ success: true, accepted: 6 });
    await drained();
    expect(await rows()).toHaveLength(6);
  });

  it('analytics.js: writeKey in a text/plain body with no auth header, on /v1/batch, /v1/b and the short single-call paths', async () => {
    const stamp = new Date().toISOString();
    const plain = { 'content-type': 'text/plain' };
    const batch = await api.send('/v1/batch', {
      raw: JSON.stringify({ batch: [messages(stamp)[0]], writeKey: project.write_key }),
      headers: plain,
    });
    expect(batch.status).toBe(200);
    const b = await api.send('/v1/b', {
      raw: JSON.stringify({ batch: [{ ...messages(stamp)[3], messageId: 'seg-b' }], writeKey: project.write_key }),
      headers: plain,
    });
    expect(b.json).toMatchObject({ success: true, accepted: 1 });
    const single = {
      type: 'track',
      event: 'Clicked',
      anonymousId: 'anon-9',
      messageId: 'seg-t',
      timestamp: stamp,
      sentAt: stamp,
      writeKey: project.write_key,
    };
    expect((await api.send('/v1/t', { raw: JSON.stringify(single), headers: plain })).json).toEqual({
      success: true,
      accepted: 1,
      rejected: [],
    });
    const page = await api.send('/v1/page', {
      body: { anonymousId: 'anon-9', name: 'Docs', messageId: 'seg-p' },
      headers: { authorization: basic(project.write_key) },
    });
    expect(page.status).toBe(200);
    const stored = await rowsWhenStored(4);
    expect(stored.map((r) => [r.event_id, r.event])).toEqual([
      ['seg-1', 'Order Completed'],
      ['seg-b', '$screen'],
      ['seg-p', '$pageview'],
      ['seg-t', 'Clicked'],
    ]);
  });

  it('reports the invalid messages of a batch beside the accepted ones, and answers 400 when none is valid', async () => {
    const partial = await api.send('/v1/import', {
      body: {
        batch: [
          { type: 'track', event: 'no ids', messageId: 'bad-1' },
          { type: 'visit', userId: 'u' },
          { type: 'track', event: 'ok', userId: 'u', messageId: 'good-1' },
          { type: 'track', event: '', userId: 'u' },
        ],
      },
      headers: { authorization: basic(project.write_key) },
    });
    expect(partial.status).toBe(200);
    expect(partial.json.success).toBe(true);
    expect(partial.json.accepted).toBe(1);
    expect(partial.json.rejected.map((r: { index: number; errors: { path: string }[] }) => [r.index, r.errors[0]!.path])).toEqual([
      [0, 'userId'],
      [1, 'type'],
      [3, 'event'],
    ]);
    expect(partial.json.rejected[0].event_id).toBe('bad-1');
    const none = await api.send('/v1/track', { body: { event: 'x' }, headers: { authorization: basic(project.write_key) } });
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe('INVALID_EVENT');
    await drained();
    expect((await rows()).map((r) => r.event_id)).toEqual(['good-1']);
  });

  it('keeps EAP /v1/batch as it was, and refuses unknown keys in every place a key can be', async () => {
    const eap = await api.send('/v1/batch', { key: project.write_key, body: { events: [{ event: 'eap', distinct_id: 'd' }] } });
    expect(eap.status).toBe(202);
    expect(eap.json).toEqual({ accepted: 1, rejected: [] });
    expect((await api.send('/v1/batch', { body: { events: [{ event: 'eap', distinct_id: 'd' }] } })).status).toBe(401);
    expect((await api.send('/v1/batch', { body: { batch: [], writeKey: 'eap_w_unknown' } })).status).toBe(401);
    expect((await api.send('/v1/batch', { body: { batch: [] }, headers: { authorization: basic('eap_w_unknown') } })).status).toBe(401);
    expect((await api.send('/v1/batch', { body: { batch: [] }, headers: { authorization: basic(project.read_key) } })).status).toBe(403);
    expect((await api.send('/v1/batch', { key: project.write_key, body: { nothing: true } })).json.error.code).toBe('INVALID_REQUEST');
  });

  it('answers the CDN settings analytics-next loads, pointing it at this API', async () => {
    const settings = await api.send(`/v1/projects/${project.write_key}/settings`, { method: 'GET' });
    expect(settings.status).toBe(200);
    const port = new URL(api.baseUrl).port;
    expect(settings.json.integrations['Segment.io']).toMatchObject({
      apiKey: project.write_key,
      apiHost: `127.0.0.1:${port}/v1`,
      protocol: 'http',
    });
    const proxied = await api.send(`/v1/projects/${project.write_key}/settings`, {
      method: 'GET',
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'collect.example.com' },
    });
    expect(proxied.json.integrations['Segment.io']).toMatchObject({ apiHost: 'collect.example.com/v1', protocol: 'https' });
    expect((await api.send('/v1/projects/eap_w_unknown/settings', { method: 'GET' })).status).toBe(401);
  });
});

describe('PostHog', () => {
  const event = (uuid: string, name: string, extra: Record<string, unknown> = {}) => ({
    event: name,
    distinct_id: 'ph-user',
    uuid,
    timestamp: new Date(Date.now() - 5000).toISOString(),
    properties: { $lib: 'posthog-node', $lib_version: '5.70.0', $is_server: true, $geoip_disable: true, ...extra },
  });

  it('posthog-node: gzip /batch/ with api_key in the body; an identical resend stores nothing twice', async () => {
    const body = gzipSync(
      JSON.stringify({
        api_key: project.write_key,
        batch: [
          event('0190a000-0000-7000-8000-000000000001', 'signed up', { plan: 'pro' }),
          event('0190a000-0000-7000-8000-000000000002', '$identify', { $set: { email: 'x@y.test' }, $anon_distinct_id: 'anon-ph' }),
        ],
        sent_at: new Date().toISOString(),
      }),
    );
    const headers = { 'content-encoding': 'gzip' };
    const answer = await api.send('/batch/', { raw: body, headers });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ status: 1, accepted: 2, rejected: [] });
    const stored = await rowsWhenStored(2);
    expect(stored.map((r) => [r.event, r.distinct_id])).toEqual([
      ['signed up', 'ph-user'],
      ['$identify', 'ph-user'],
    ]);
    expect(stored[0]!.properties).toMatchObject({ plan: 'pro', $lib: 'posthog-node' });
    expect(stored[0]!.context).toMatchObject({ library: { name: 'posthog-node', version: '5.70.0' } });
    expect(stored[1]!.properties).toMatchObject({ $set: { email: 'x@y.test' }, $anon_distinct_id: 'anon-ph' });
    expect((await api.send('/batch/', { raw: body, headers })).json).toMatchObject({ status: 1, accepted: 2 });
    await drained();
    expect(await rows()).toHaveLength(2);
  });

  it('posthog-js: text/plain gzip with no hint to /e/, gzip-js, base64 form beacons and token in the query', async () => {
    const jsEvent = (uuid: string, name: string) => ({
      uuid,
      event: name,
      properties: {
        distinct_id: 'browser-1',
        token: project.write_key,
        $time: Date.now() / 1000 - 2,
        $insert_id: `ins-${uuid}`,
        $session_id: 'sess-1',
        $current_url: 'https://site.test/',
      },
    });
    const envelope = (uuid: string, name: string) => ({
      api_key: project.write_key,
      batch: [jsEvent(uuid, name)],
      sent_at: new Date().toISOString(),
    });
    const plain = { 'content-type': 'text/plain' };
    const gz = await api.send('/e/?ip=0&_=1&ver=1.449.2', { raw: gzipSync(JSON.stringify(envelope('js-1', '$pageview'))), headers: plain });
    expect(gz.json).toEqual({ status: 1, accepted: 1, rejected: [] });
    const hinted = await api.send('/e/?compression=gzip-js', {
      raw: gzipSync(JSON.stringify(envelope('js-2', '$autocapture'))),
      headers: plain,
    });
    expect(hinted.status).toBe(200);
    const b64 = Buffer.from(JSON.stringify(envelope('js-3', '$pageleave'))).toString('base64');
    const beacon = await api.send('/e/?compression=base64', {
      raw: `data=${encodeURIComponent(b64)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(beacon.json).toMatchObject({ status: 1, accepted: 1 });
    const query = await api.send(`/i/v0/e/?token=${project.write_key}`, {
      body: [{ ...jsEvent('js-4', 'clicked'), properties: { distinct_id: 'browser-1' } }],
    });
    expect(query.json).toMatchObject({ status: 1, accepted: 1 });
    const stored = await rowsWhenStored(4);
    expect(stored.map((r) => [r.event_id, r.event, r.distinct_id])).toEqual([
      ['js-1', '$pageview', 'browser-1'],
      ['js-2', '$autocapture', 'browser-1'],
      ['js-3', '$pageleave', 'browser-1'],
      ['js-4', 'clicked', 'browser-1'],
    ]);
    expect(stored[0]!.session_id).toBe('sess-1');
    expect(stored[0]!.properties).not.toHaveProperty('token');
    expect(stored[0]!.properties).toMatchObject({ $current_url: 'https://site.test/' });
  });

  it('single events on /capture and /engage; invalid events reported; no key is 401', async () => {
    const capture = await api.send('/capture', {
      body: { api_key: project.write_key, event: 'one', distinct_id: 'd1', properties: { a: 1 }, uuid: 'cap-1' },
    });
    expect(capture.json).toEqual({ status: 1, accepted: 1, rejected: [] });
    const engage = await api.send('/engage/', { body: { $token: project.write_key, $distinct_id: 'd1', $set: { name: 'Ada' } } });
    expect(engage.json).toMatchObject({ status: 1, accepted: 1 });
    const partial = await api.send('/batch', {
      body: { api_key: project.write_key, batch: [{ event: 'no id' }, { event: 'ok', distinct_id: 'd2', uuid: 'cap-2' }] },
    });
    expect(partial.status).toBe(200);
    expect(partial.json).toMatchObject({ status: 1, accepted: 1, rejected: [{ index: 0, errors: [{ path: 'distinct_id' }] }] });
    const invalid = await api.send('/track', { body: { api_key: project.write_key, batch: [{ event: 'no id' }] } });
    expect(invalid.status).toBe(400);
    expect((await api.send('/capture', { body: { event: 'e', distinct_id: 'd' } })).status).toBe(401);
    const stored = await rowsWhenStored(3);
    expect(stored.map((r) => r.event).sort()).toEqual(['$set', 'ok', 'one']);
    expect(stored.find((r) => r.event === '$set')!.properties).toEqual({ $set: { name: 'Ada' } });
  });

  it('answers /flags, /decide and the remote config posthog-js loads: no feature flags', async () => {
    const flags = await api.send('/flags/?v=2', {
      raw: gzipSync(JSON.stringify({ token: project.write_key, distinct_id: 'd' })),
      headers: { 'content-type': 'text/plain' },
    });
    expect(flags.status).toBe(200);
    expect(flags.json).toMatchObject({ flags: {}, errorsWhileComputingFlags: false, quotaLimited: [] });
    expect(flags.json).not.toHaveProperty('featureFlags');
    const decide = await api.send('/decide/?v=3', { body: { token: project.write_key, distinct_id: 'd' } });
    expect(decide.json).toMatchObject({ featureFlags: {}, featureFlagPayloads: {}, supportedCompression: ['gzip', 'gzip-js'] });
    const config = await api.send(`/array/${project.write_key}/config`, { method: 'GET' });
    expect(config.json).toMatchObject({ token: project.write_key, hasFeatureFlags: false, supportedCompression: ['gzip', 'gzip-js'] });
    const script = await api.send(`/array/${project.write_key}/config.js`, { method: 'GET' });
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(script.text).toContain(`_POSTHOG_REMOTE_CONFIG["${project.write_key}"]`);
    expect((await api.send('/array/eap_w_unknown/config', { method: 'GET' })).status).toBe(401);
  });
});

describe('Amplitude', () => {
  const amplitudeEvent = (insertId: string, extra: Record<string, unknown> = {}) => ({
    event_type: 'Song Played',
    user_id: 'amp-user-1',
    device_id: 'amp-device-1',
    time: Date.now() - 3000,
    insert_id: insertId,
    event_id: 1,
    library: 'amplitude-node/1.5.73',
    event_properties: { genre: 'jazz' },
    ...extra,
  });

  it('/2/httpapi: answers with code 200 and events_ingested; user_properties operators; a resend stores nothing twice', async () => {
    const body = {
      api_key: project.write_key,
      events: [
        amplitudeEvent('amp-1'),
        amplitudeEvent('amp-2', {
          event_type: '$identify',
          user_properties: { $set: { plan: 'pro' }, $setOnce: { first: 'x' }, $unset: { old: '-' }, city: 'Oslo' },
        }),
      ],
      options: { min_id_length: 1 },
      client_upload_time: new Date().toISOString(),
    };
    const answer = await api.send('/2/httpapi', { body });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ code: 200, events_ingested: 2 });
    expect(answer.json.payload_size_bytes).toBeGreaterThan(0);
    expect(typeof answer.json.server_upload_time).toBe('number');
    const stored = await rowsWhenStored(2);
    expect(byId(stored, 'amp-1')).toMatchObject({
      event: 'Song Played',
      distinct_id: 'amp-user-1',
      properties: { genre: 'jazz', $anon_distinct_id: 'amp-device-1' },
    });
    expect(byId(stored, 'amp-2').properties).toMatchObject({
      $set: { plan: 'pro', city: 'Oslo' },
      $set_once: { first: 'x' },
      $unset: ['old'],
    });
    expect(byId(stored, 'amp-1').context).toMatchObject({ library: { name: 'amplitude-node', version: '1.5.73' } });
    expect(
      (await api.send('/2/httpapi', { body: { ...body, client_upload_time: new Date(Date.now() + 9000).toISOString() } })).json.code,
    ).toBe(200);
    await drained();
    expect(await rows()).toHaveLength(2);
  });

  it('answers invalid events, keys and bodies in the Amplitude format', async () => {
    const invalid = await api.send('/2/httpapi', {
      body: {
        api_key: project.write_key,
        events: [amplitudeEvent('amp-ok'), { user_id: 'u', insert_id: 'no-type' }, amplitudeEvent('amp-bad-time', { time: 'soon' })],
      },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({
      code: 400,
      events_ingested: 1,
      events_with_missing_fields: { event_type: [1] },
      events_with_invalid_fields: { time: [2] },
    });
    const badKey = await api.send('/2/httpapi', { body: { api_key: 'eap_w_unknown', events: [amplitudeEvent('x')] } });
    expect(badKey.status).toBe(400);
    expect(badKey.json.code).toBe(400);
    expect(badKey.json.error).toMatch(/^Invalid API key/);
    expect((await api.send('/2/httpapi', { body: { events: [amplitudeEvent('x')] } })).json).toMatchObject({
      code: 400,
      missing_field: 'api_key',
    });
    expect((await api.send('/2/httpapi', { body: { api_key: project.write_key, events: [] } })).json).toMatchObject({
      missing_field: 'events',
    });
    const tooMany = await api.send('/2/httpapi', {
      body: { api_key: project.write_key, events: Array.from({ length: 1001 }, (_, i) => amplitudeEvent(`m${i}`)) },
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.json.code).toBe(413);
    const malformed = await api.send('/2/httpapi', { raw: '{"api_key":' });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ code: 400, error_code: 'MALFORMED_JSON' });
    await drained();
    expect((await rows()).map((r) => r.event_id)).toEqual(['amp-ok']);
  });
});

describe('body encodings', () => {
  const batch = () =>
    JSON.stringify({ api_key: project.write_key, batch: [{ event: 'enc', distinct_id: 'd', uuid: `enc-${Math.random()}` }] });

  it('base64 bodies are read with ?compression=base64 or when the body is no JSON', async () => {
    const b64 = Buffer.from(batch()).toString('base64');
    expect((await api.send('/e/?compression=base64', { raw: b64, headers: { 'content-type': 'text/plain' } })).json).toMatchObject({
      accepted: 1,
    });
    expect((await api.send('/e/', { raw: b64, headers: { 'content-type': 'text/plain' } })).json).toMatchObject({ accepted: 1 });
    expect(
      (
        await api.send('/e/', {
          raw: `data=${encodeURIComponent(batch())}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).json,
    ).toMatchObject({ accepted: 1 });
  });

  it('malformed encodings are 4xx with a clear code, never 5xx', async () => {
    const plain = { 'content-type': 'text/plain' };
    const badBase64 = await api.send('/e/?compression=base64', { raw: '!!not base64!!', headers: plain });
    expect([badBase64.status, badBase64.json.error.code]).toEqual([400, 'MALFORMED_JSON']);
    expect(badBase64.json.error.message).toContain('base64');
    const base64OfGarbage = await api.send('/e/?compression=base64', { raw: Buffer.from('{"batch":').toString('base64'), headers: plain });
    expect([base64OfGarbage.status, base64OfGarbage.json.error.code]).toEqual([400, 'MALFORMED_JSON']);
    const gz = gzipSync(batch());
    const truncated = await api.send('/e/', { raw: Uint8Array.from(gz.subarray(0, gz.length - 10)), headers: plain });
    expect([truncated.status, truncated.json.error.code]).toEqual([400, 'MALFORMED_JSON']);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    const bombed = await api.send('/e/', { raw: Uint8Array.from(bomb), headers: plain });
    expect([bombed.status, bombed.json.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const form = await api.send('/e/', { raw: 'event=a&distinct_id=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([form.status, form.json.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const badFormData = await api.send('/e/', { raw: 'data=%%%', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(badFormData.status).toBe(400);
    const lz = await api.send('/e/?compression=lz64', { raw: 'abc', headers: plain });
    expect([lz.status, lz.json.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    // The API still serves after all of it.
    expect((await api.send('/e/', { raw: gz, headers: plain })).status).toBe(200);
  });
});

describe('backpressure', () => {
  it('passes through each protocol as 503 with Retry-After, so SDKs resend', async () => {
    // An API of its own on another Redis database, with no worker: the backlog stays full.
    const ownRedis = await useSharedRedis();
    const full = await startTestApi({
      databaseUrl: db.url,
      redisUrl: ownRedis.url,
      env: { STREAM_BACKLOG_CAP: '2', STREAM_BACKLOG_PROJECT_PERCENT: '100' },
    });
    try {
      // Two requests one after the other, two entries: the cap counts entries.
      for (const _ of [1, 2]) {
        const fill = await full.send('/v1/events', { key: project.write_key, body: { event: 'f', distinct_id: 'd' } });
        expect(fill.json.accepted).toBe(1);
      }
      await waitFor(() => full.server.backlog.refusal(project.project_id) !== undefined, 5000, 'the backlog measured full');
      const segment = await full.send('/v1/batch', {
        body: { batch: [{ type: 'track', event: 'e', userId: 'u' }] },
        headers: { authorization: basic(project.write_key) },
      });
      const posthog = await full.send('/e/', { body: { api_key: project.write_key, batch: [{ event: 'e', distinct_id: 'u' }] } });
      const amplitude = await full.send('/2/httpapi', {
        body: { api_key: project.write_key, events: [{ event_type: 'e', user_id: 'u' }] },
      });
      for (const answer of [segment, posthog, amplitude]) {
        expect(answer.status).toBe(503);
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(segment.json.error.code).toBe('BACKLOG_FULL');
      expect(posthog.json.error.code).toBe('BACKLOG_FULL');
      expect(amplitude.json).toMatchObject({ code: 503, error_code: 'BACKLOG_FULL' });
    } finally {
      await full.stop();
      await ownRedis.close();
    }
  });
});
