import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { startRedisContainer } from './test-containers.ts';

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

/**
 * A Redis server of its own (a container), for tests that stop, kill or fill it. With
 * `appendFsync` it keeps an append-only file, so what it acknowledged survives `server.kill()`.
 */
export async function startOwnRedis(options: { maxMemory?: string; appendFsync?: 'everysec' | 'always' } = {}) {
  const server = await startRedisContainer(options);
  return {
    server,
    url: server.url,
    close: () => server.remove(),
  };
}
