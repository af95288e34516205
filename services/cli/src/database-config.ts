import { parseEnv } from '@eap/core';
import pg from 'pg';
import { reaching } from './command-failure.ts';
import { DatabaseConfigSchema } from './config.ts';

export function loadDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return parseEnv(DatabaseConfigSchema, env).DATABASE_URL;
}

/**
 * Runs `fn` with a small pool that is always closed afterwards. A PostgreSQL that cannot be
 * reached, or refuses, is a one-line failure naming it.
 */
export async function withPool<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: loadDatabaseUrl(), max: 2, application_name: 'eap-cli', connectionTimeoutMillis: 10_000 });
  try {
    return await reaching('PostgreSQL', () => fn(pool));
  } finally {
    await pool.end();
  }
}
