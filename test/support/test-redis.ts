import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { startRedis } from '@eap/local-services';

const LOGICAL_DATABASES = 16;

/**
 * A logical database (SELECT n) of the shared test Redis for one test file, so stream keys keep
 * their real names (`eap:events:{n}`) without colliding with other files running in parallel.
 */
export async function useSharedRedis() {
  const base = inject('sharedRedisUrl');
  const control = new Redis(base, { lazyConnect: true });
  await control.connect();
  const n = ((await control.incr('eap-test:next-db')) % (LOGICAL_DATABASES - 1)) + 1;
  control.disconnect();
  const url = `${base}/${n}`;
  const client = new Redis(url);
  await client.flushdb();
  return {
    url,
    client,
    async close(): Promise<void> {
      await client.flushdb();
      client.disconnect();
    },
  };
}

/** A Redis server of its own, for tests that stop, kill or fill it. Needs redis-server locally. */
export async function startOwnRedis(options: { maxMemory?: string; appendFsync?: 'everysec' | 'always' } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'eap-redis-'));
  const server = await startRedis({
    dataDir,
    ...(options.maxMemory ? { maxMemory: options.maxMemory } : {}),
    ...(options.appendFsync ? { appendFsync: options.appendFsync } : {}),
  });
  return {
    server,
    url: server.url,
    async close(): Promise<void> {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
