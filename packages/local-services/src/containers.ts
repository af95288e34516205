/**
 * Fallback for machines without local Redis/PostgreSQL binaries but with a Docker engine:
 * the same {@link LocalStack} shape, backed by testcontainers. The testcontainers packages are
 * NOT dependencies of this package; on such a machine install them in the project first:
 *
 * ```sh
 * npm i -D @testcontainers/redis @testcontainers/postgresql
 * ```
 *
 * They are loaded with a dynamic `import()` only when this fallback is used.
 * @module
 */
import { join, resolve } from 'node:path';
import { describeCommandFailure, runCommand } from './run-command.ts';
import type { LocalService, LocalStack } from './types.ts';

const REDIS_IMAGE = 'redis:7.2';
const POSTGRES_IMAGE = 'postgres:16-alpine';

/** The parts of testcontainers' StartedTestContainer used here. */
interface StartedContainer {
  getHost(): string;
  getMappedPort(port: number): number;
  getId(): string;
  restart(): Promise<void>;
  stop(): Promise<unknown>;
}

interface RedisContainerBuilder {
  withPersistence(hostDir: string): RedisContainerBuilder;
  start(): Promise<StartedContainer>;
}

interface PostgresContainerBuilder {
  withUsername(name: string): PostgresContainerBuilder;
  withDatabase(name: string): PostgresContainerBuilder;
  withPassword(password: string): PostgresContainerBuilder;
  withCommand(command: string[]): PostgresContainerBuilder;
  start(): Promise<StartedContainer>;
}

interface RedisModule {
  RedisContainer: new (image: string) => RedisContainerBuilder;
}

interface PostgresModule {
  PostgreSqlContainer: new (image: string) => PostgresContainerBuilder;
}

async function importOptional<T>(specifier: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw new Error(`The Docker fallback needs ${specifier}: npm i -D @testcontainers/redis @testcontainers/postgresql`, { cause: error });
  }
}

/** True when a Docker engine answers (`docker info` succeeds within 15 s). */
export async function isDockerAvailable(): Promise<boolean> {
  const result = await runCommand('docker', ['info', '--format', '{{.ServerVersion}}'], {
    timeoutMs: 15_000,
  });
  return result.code === 0;
}

async function docker(args: string[]): Promise<void> {
  const result = await runCommand('docker', args, { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(describeCommandFailure(`docker ${args.join(' ')}`, result));
}

/**
 * A LocalService over a started container. `stop()` = `docker stop`, `kill()` = `docker kill`
 * (the container and its data are kept), `start()` = testcontainers' restart, which waits for
 * readiness. The host port can change on restart, so `url` and `port` are re-read each time.
 */
function createContainerService(
  container: StartedContainer,
  internalPort: number,
  urlFor: (host: string, port: number) => string,
): LocalService {
  let running = true;
  return {
    get url() {
      return urlFor(container.getHost(), container.getMappedPort(internalPort));
    },
    get port() {
      return container.getMappedPort(internalPort);
    },
    dataDir: `docker:${container.getId()}`,
    async stop() {
      if (running) await docker(['stop', '--time', '30', container.getId()]);
      running = false;
    },
    async kill() {
      if (running) await docker(['kill', container.getId()]);
      running = false;
    },
    async start() {
      if (!running) await container.restart();
      running = true;
    },
  };
}

/**
 * Starts Redis (AOF persisted to `rootDir/redis` via a bind mount) and PostgreSQL (user `eap`,
 * password `eap`, database `postgres`) containers. Requires the testcontainers packages (see the
 * module comment) and a reachable Docker engine.
 */
export async function startContainerStack(options: { rootDir: string; fast?: boolean }): Promise<LocalStack> {
  const { RedisContainer } = await importOptional<RedisModule>('@testcontainers/redis');
  const { PostgreSqlContainer } = await importOptional<PostgresModule>('@testcontainers/postgresql');
  const fastSettings = options.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [];
  const [redisResult, postgresResult] = await Promise.allSettled([
    new RedisContainer(REDIS_IMAGE).withPersistence(join(resolve(options.rootDir), 'redis')).start(),
    new PostgreSqlContainer(POSTGRES_IMAGE)
      .withUsername('eap')
      .withPassword('eap')
      .withDatabase('postgres')
      .withCommand(['postgres', '-c', 'max_connections=200', ...fastSettings])
      .start(),
  ]);
  if (redisResult.status === 'rejected' || postgresResult.status === 'rejected') {
    for (const result of [redisResult, postgresResult]) {
      if (result.status === 'fulfilled') await result.value.stop().catch(() => undefined);
    }
    const failed = redisResult.status === 'rejected' ? redisResult : postgresResult;
    throw new Error('Could not start the Docker containers for the local stack', {
      cause: failed.status === 'rejected' ? failed.reason : undefined,
    });
  }
  const redisContainer = redisResult.value;
  const postgresContainer = postgresResult.value;
  const redis = createContainerService(redisContainer, 6379, (host, port) => `redis://${host}:${port}`);
  const postgres = createContainerService(postgresContainer, 5432, (host, port) => `postgres://eap:eap@${host}:${port}/postgres`);
  return {
    get redisUrl() {
      return redis.url;
    },
    get databaseUrl() {
      return postgres.url;
    },
    redis,
    postgres,
    async stop() {
      await Promise.all([redisContainer.stop(), postgresContainer.stop()]);
    },
  };
}
