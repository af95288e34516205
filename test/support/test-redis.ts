import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { startRedisContainer } from './test-containers.ts';

const LOGICAL_DATABASES = 16;
/** How long a lease outlives a test process that never gave it back (one that crashed). */
const LEASE_SECONDS = 3600;
/** How long to wait for a free logical database before failing. */
const LEASE_WAIT_MS = 120_000;

/**
 * Leases one of the logical databases 1–15 of the shared test Redis (database 0 holds the
 * leases): a database is never handed to a second user before the first gave it back. Handing
 * them out in turn without leases gave two files running at the same time the same database once
 * more than 15 had asked in a run, and one's FLUSHDB or letters landed in the other's streams.
 */
async function leaseDatabase(control: Redis): Promise<{ n: number; release: () => Promise<void> }> {
  const usable = LOGICAL_DATABASES - 1;
  const deadline = Date.now() + LEASE_WAIT_MS;
  for (;;) {
    // Start after the database handed out last, so a database is reused as late as possible.
    const first = (await control.incr('eap-test:next-db')) % usable;
    for (let i = 0; i < usable; i++) {
      const n = ((first + i) % usable) + 1;
      const key = `eap-test:db-lease:${n}`;
      const token = `${process.pid}:${Date.now()}:${Math.random()}`;
      if ((await control.set(key, token, 'EX', LEASE_SECONDS, 'NX')) === 'OK') {
        return {
          n,
          // Only our own lease: an expired one may have been taken by someone else since.
          release: async () => {
            if ((await control.get(key)) === token) await control.del(key);
          },
        };
      }
    }
    if (Date.now() > deadline) throw new Error(`no logical database of the shared test Redis was free for ${LEASE_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A logical database (SELECT n) of the shared test Redis for one test file, so stream keys keep
 * their real names (`eap:events:{n}`) without colliding with other files running in parallel.
 * It is empty when handed out, and emptied and given back by `close()`.
 */
export async function useSharedRedis() {
  const base = inject('sharedRedisUrl');
  const control = new Redis(base, { lazyConnect: true });
  await control.connect();
  const lease = await leaseDatabase(control);
  const url = `${base}/${lease.n}`;
  const client = new Redis(url);
  await client.flushdb();
  return {
    url,
    client,
    async close(): Promise<void> {
      await client.flushdb();
      client.disconnect();
      await lease.release();
      control.disconnect();
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
