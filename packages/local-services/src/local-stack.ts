import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureBinaries, type LocalBinaries } from './binaries.ts';
import { startPostgres } from './postgres-server.ts';
import { startRedis } from './redis-server.ts';
import type { LocalService, LocalStack } from './types.ts';

export interface LocalStackOptions {
  /** Parent directory; Redis uses `rootDir/redis`, PostgreSQL `rootDir/postgres`. */
  rootDir: string;
  /** PostgreSQL test settings (fsync off etc., see {@link PostgresOptions.fast}). */
  fast?: boolean;
  redisPort?: number;
  postgresPort?: number;
  /** Redis `maxmemory` (writes are refused above it, never evicted), e.g. `1gb`. Default: unlimited. */
  redisMaxMemory?: string;
}

async function startLocalProcesses(options: LocalStackOptions, binaries: LocalBinaries): Promise<LocalStack> {
  const rootDir = resolve(options.rootDir);
  await mkdir(rootDir, { recursive: true });
  const [redisResult, postgresResult] = await Promise.allSettled([
    startRedis({
      dataDir: join(rootDir, 'redis'),
      port: options.redisPort,
      maxMemory: options.redisMaxMemory,
      redisServer: binaries.redisServer,
    }),
    startPostgres({
      dataDir: join(rootDir, 'postgres'),
      port: options.postgresPort,
      fast: options.fast,
      postgresBin: binaries.postgresBin,
    }),
  ]);
  if (redisResult.status === 'rejected' || postgresResult.status === 'rejected') {
    const started: LocalService[] = [];
    const errors: unknown[] = [];
    for (const result of [redisResult, postgresResult]) {
      if (result.status === 'fulfilled') started.push(result.value);
      else errors.push(result.reason);
    }
    await Promise.all(started.map((service) => service.stop().catch(() => undefined)));
    if (errors.length === 1) throw errors[0];
    throw new AggregateError(errors, 'Neither Redis nor PostgreSQL could be started');
  }
  const redis = redisResult.value;
  const postgres = postgresResult.value;
  return {
    redisUrl: redis.url,
    databaseUrl: postgres.url,
    redis,
    postgres,
    stop: async () => {
      await Promise.all([redis.stop(), postgres.stop()]);
    },
  };
}

/**
 * Starts Redis and PostgreSQL for a local dev stack or benchmarks, from the machine's binaries
 * (found, or installed with apt-get when root, by {@link ensureBinaries}; throws
 * {@link MissingBinariesError} with install hints when they are missing). The tests run these
 * servers as containers instead (test/support/test-containers.ts).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  return startLocalProcesses(options, await ensureBinaries());
}
