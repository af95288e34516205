import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createMigrator } from '@eap/db';
import { useSharedRedis } from './test-redis.ts';

/**
 * A fresh database on the shared test server, for one test file. `migrate: true` applies the
 * migrations. `drop()` removes it (terminating leftover connections first).
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}) {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `eap_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  if (options.migrate) await createMigrator(databaseUrl).up();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', () => undefined);
  return {
    name,
    url: databaseUrl,
    pool,
    async drop(): Promise<void> {
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
export type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/**
 * A migrated database and a logical Redis database for the enclosing test file or `describe`,
 * created before its tests and removed after them. Read `.db` and `.redis` inside tests.
 */
export function useDatabaseAndRedis() {
  const backends = {} as { db: TestDatabase; redis: Awaited<ReturnType<typeof useSharedRedis>> };
  beforeAll(async () => {
    backends.db = await createTestDatabase({ migrate: true });
    backends.redis = await useSharedRedis();
  });
  afterAll(async () => {
    await backends.redis?.close();
    await backends.db?.drop();
  });
  return backends;
}
