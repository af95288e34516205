import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '@eap/local-services';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the shared test PostgreSQL server; each test file makes its own database. */
    adminDatabaseUrl: string;
    /** URL of the shared test Redis server; each test file takes its own logical database. */
    sharedRedisUrl: string;
  }
}

/** Starts one private Redis and one private PostgreSQL for the whole run and stops them after. */
export default async function setup(project: TestProject) {
  const rootDir = await mkdtemp(join(tmpdir(), 'eap-test-'));
  // mkdtemp makes 0700 folders; PostgreSQL runs as the postgres user when tests run as root.
  await chmod(rootDir, 0o755);
  const stack = await startLocalStack({ rootDir, fast: true });
  project.provide('adminDatabaseUrl', stack.databaseUrl);
  project.provide('sharedRedisUrl', stack.redisUrl);
  return async () => {
    await stack.stop();
    await rm(rootDir, { recursive: true, force: true });
  };
}
