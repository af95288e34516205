import { parseEnv, SHARED_VARS } from '@eap/core';
import { z } from 'zod';
import pg from 'pg';

/** Config of the commands that only need PostgreSQL. */
export const DatabaseConfigSchema = z.object({
  DATABASE_URL: SHARED_VARS.DATABASE_URL,
});

export function loadDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnv(DatabaseConfigSchema, env).DATABASE_URL;
}

/** Runs `fn` with a small pool that is always closed afterwards. */
export async function withPool<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: loadDatabaseUrl(), max: 2, application_name: 'eap-cli' });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}
