import type { TestProject } from 'vitest/node';
import { configureTestcontainers, removeLeftovers } from './docker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the shared test PostgreSQL server; each test file makes its own database. */
    adminDatabaseUrl: string;
    /** URL of the shared test Redis server; each test file takes its own logical database. */
    sharedRedisUrl: string;
  }
}

/**
 * Starts one Redis and one PostgreSQL container for the whole run (test settings: no Redis
 * persistence, PostgreSQL without fsync) and removes them after. Containers an interrupted
 * earlier run left behind are removed first.
 */
export default async function setup(project: TestProject) {
  configureTestcontainers();
  // Loaded only now, so that testcontainers sees the settings above.
  const { startPostgresContainer, startRedisContainer } = await import('./test-containers.ts');
  await removeLeftovers();
  const starting = [startRedisContainer({ snapshots: false }), startPostgresContainer({ fast: true })] as const;
  const [redis, postgres] = await Promise.all(starting).catch(async (error: unknown) => {
    await Promise.all(
      starting.map((start) =>
        start.then(
          (service) => service.remove(),
          () => undefined,
        ),
      ),
    );
    throw error;
  });
  project.provide('adminDatabaseUrl', postgres.url);
  project.provide('sharedRedisUrl', redis.url);
  return async () => {
    await Promise.all([redis.remove(), postgres.remove()]);
  };
}
