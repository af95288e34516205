import { generateApiKey } from '@eap/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSharedRedis } from './support/test-redis.ts';
import { startTestApi, type TestApi } from './support/test-api.ts';

// An API whose PostgreSQL cannot be reached (nothing listens on port 1): every key lookup would
// fail with 503. A string that is not shaped like a key must get 401 all the same, so it never
// reached the database (and took no cache entry).
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;

beforeAll(async () => {
  redis = await useSharedRedis();
  api = await startTestApi({ databaseUrl: 'postgres://eap:eap@127.0.0.1:1/eap', redisUrl: redis.url });
});

afterAll(async () => {
  await api?.stop();
  await redis?.close();
});

const event = { event: 'page_view', distinct_id: 'u1' };
const wellFormed = generateApiKey('write');
const garbage = [
  'garbage',
  'eap_w_',
  `eap_w_${'a'.repeat(42)}`,
  `eap_w_${'a'.repeat(44)}`,
  `eap_x_${'a'.repeat(43)}`,
  `eap_w_${'a'.repeat(42)}=`,
  `eap_w_${'a'.repeat(42)}+`,
  `${wellFormed}.`,
  `EAP_W_${wellFormed.slice(6)}`,
];

async function malformedLookups(): Promise<number> {
  const text = await (await fetch(`${api.adminUrl}/metrics`)).text();
  return Number(/eap_api_key_lookups_total\{result="malformed"\} (\d+)/.exec(text)?.[1] ?? 0);
}

describe('API key format', () => {
  it('answers 401 to strings that are not shaped like a key without asking PostgreSQL', async () => {
    for (const key of garbage) {
      const res = await api.send('/v1/events', { body: event, headers: { 'x-api-key': key } });
      expect(res.status, JSON.stringify(key)).toBe(401);
      expect(res.json.error.code).toBe('UNAUTHORIZED');
    }
    const read = await api.send('/v1/query/events', { method: 'GET', headers: { 'x-api-key': 'eap_r_nope' } });
    expect(read.status).toBe(401);
    expect(await malformedLookups()).toBe(garbage.length + 1);
  });

  it('does ask PostgreSQL for a well-formed key (here unreachable: 503, never a wrong 401)', async () => {
    const res = await api.send('/v1/events', { key: wellFormed, body: event });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('DATABASE_UNAVAILABLE');
  });
});
