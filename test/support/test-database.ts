import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createMigrator } from '@eap/db';

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
