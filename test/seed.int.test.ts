import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamEvents, streamKeys } from '@eap/core';
import { exited, runEap, spawnEap } from '@eap/local-services';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { startTestApi, TEST_ADMIN_TOKEN, type TestApi, waitFor } from './support/test-api.ts';

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
});
afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

async function streamEvents() {
  const out = [];
  for (const key of streamKeys(4))
    for (const [, fields] of await redis.client.xrange(key, '-', '+')) out.push(...decodeStreamEvents(fields));
  return out;
}

describe('eap seed', () => {
  it('creates projects and sends realistic funnel traffic that the API accepts', async () => {
    await redis.client.flushdb();
    const run = await runEap(
      ['seed', '--url', api.baseUrl, '--projects', '2', '--users', '50', '--rate', '2000', '--max-events', '600', '--batch', '100'],
      {
        EAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const stats = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(stats.accepted).toBe(600);
    expect(stats.rejected).toBe(0);
    const events = await streamEvents();
    expect(events).toHaveLength(600);
    expect(new Set(events.map((e) => e.project_id)).size).toBe(2);
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(['page_view', 'signup', 'add_to_cart', 'purchase']));
  });

  it('stops cleanly on SIGTERM, having sent everything it generated', async () => {
    await redis.client.flushdb();
    const child = spawnEap(['seed', '--url', api.baseUrl, '--projects', '1', '--rate', '500'], { EAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    await waitFor(
      async () => (await redis.client.xlen(streamKeys(4)[0]!)) + (await redis.client.xlen(streamKeys(4)[1]!)) > 0,
      20_000,
      'seeded events',
    );
    child.kill('SIGTERM');
    const exit = await exited(child);
    expect(exit.code, child.output()).toBe(0);
    const stats = JSON.parse(child.output().trim().split('\n').at(-1)!);
    expect(stats.accepted).toBeGreaterThan(0);
    expect((await streamEvents()).length).toBe(stats.accepted);
  });
});
