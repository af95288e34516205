/**
 * Redis and PostgreSQL servers for the tests, as containers of the images `make images` chose
 * (REDIS_IMAGE, POSTGRES_IMAGE in .eap/images.env), started with testcontainers.
 *
 * Each one is a {@link LocalService} like the servers @eap/local-services starts from binaries,
 * so fault tests can stop, kill and start it: the container is kept across those (its data stays
 * in its volume) and its host port is chosen once and bound explicitly, so `url` never changes.
 * Every container carries {@link testLabels}; the tests remove what they start (`remove()`), and
 * {@link removeLeftovers} removes what an interrupted run left behind.
 */
import { randomBytes } from 'node:crypto';
import { REDIS_AOF_REWRITE_MIN_SIZE } from '@eap/core';
import { freePort, type LocalService, pingRedis } from '@eap/local-services';
import type { StartedTestContainer } from 'testcontainers';
import { configureTestcontainers, docker, imageOf, testLabels } from './docker.ts';

// testcontainers reads these settings when it is loaded: it is only imported (below) after this.
configureTestcontainers();

/** A server in a container of its own. */
export interface ContainerService extends LocalService {
  /** Stops and removes the container with its volumes; the service cannot be started again. */
  remove(): Promise<void>;
}

export interface RedisContainerOptions {
  /**
   * Append-only file with this fsync policy (`always`: every acknowledged write survives
   * `kill()`; `everysec`: all but about the last second). Default: no AOF.
   */
  appendFsync?: 'everysec' | 'always';
  /**
   * RDB snapshots at Redis' default save points and on a graceful `stop()` (default true), so data
   * survives stop/start. The shared server, never stopped, turns them off.
   */
  snapshots?: boolean;
  /** Redis `maxmemory`, e.g. `256mb` (default: unlimited). Eviction is always `noeviction`. */
  maxMemory?: string;
}

export interface PostgresContainerOptions {
  /**
   * Test settings: `fsync=off`, `synchronous_commit=off`, `full_page_writes=off` (and initdb
   * `--no-sync`). Committed data survives `stop()` but not necessarily `kill()`. Default false:
   * durable settings, for tests that crash the server.
   */
  fast?: boolean;
}

const REDIS_PORT = 6379;
const POSTGRES_PORT = 5432;
const POSTGRES_USER = 'eap';
const POSTGRES_PASSWORD = 'eap';
const PG_ISREADY = `pg_isready --host 127.0.0.1 --port ${POSTGRES_PORT} --username ${POSTGRES_USER} --dbname postgres`;
const STOP_TIMEOUT_SECONDS = 30;
const REDIS_READY_TIMEOUT_MS = 20_000;
/** PostgreSQL may replay its WAL after a kill before it accepts connections. */
const POSTGRES_READY_TIMEOUT_MS = 60_000;
/** Room for PostgreSQL's dynamic shared memory (parallel queries); Docker's default is 64 MB. */
const SHARED_MEMORY_BYTES = 256 * 1024 * 1024;
/** What the engine says when the host port was taken between {@link freePort} and the start. */
const PORT_TAKEN = /port is already allocated|address already in use/i;
const START_ATTEMPTS = 3;

const loadTestcontainers = async () => {
  const [core, redis, postgres] = await Promise.all([
    import('testcontainers'),
    import('@testcontainers/redis'),
    import('@testcontainers/postgresql'),
  ]);
  return { Wait: core.Wait, RedisContainer: redis.RedisContainer, PostgreSqlContainer: postgres.PostgreSqlContainer };
};

/** Polls `check` until it is true; throws `${what} within … ms` after `timeoutMs`. */
async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function waitForRedis(port: number): Promise<void> {
  return waitUntil(() => pingRedis(port), REDIS_READY_TIMEOUT_MS, `Redis on 127.0.0.1:${port} did not answer PING`);
}

/** pg_isready inside the container, as the wait strategy of its first start runs it. */
function waitForPostgres(id: string): Promise<void> {
  const isReady = () =>
    docker(['exec', id, 'sh', '-c', PG_ISREADY], 10_000).then(
      () => true,
      () => false,
    );
  return waitUntil(isReady, POSTGRES_READY_TIMEOUT_MS, `PostgreSQL in container ${id} was not ready`);
}

/**
 * Starts a container on a free host port (`start(port, name)`), trying again with another port
 * when the engine finds it taken; a container that failed to start is removed.
 */
async function startOnFreeHostPort(
  kind: string,
  start: (hostPort: number, name: string) => Promise<StartedTestContainer>,
): Promise<{ container: StartedTestContainer; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const name = `eap-test-${process.pid}-${kind}-${randomBytes(4).toString('hex')}`;
    try {
      return { container: await start(port, name), port };
    } catch (error) {
      await docker(['rm', '--force', '--volumes', name]).catch(() => undefined);
      if (attempt >= START_ATTEMPTS || !PORT_TAKEN.test(String(error))) throw error;
    }
  }
}

/**
 * The {@link ContainerService} of a started container. `stop()` is `docker stop` (the image's
 * stop signal, then up to 30 s), `kill()` is `docker kill` (SIGKILL, like a crash), `start()` is
 * `docker start` of the same container (its host port binding is fixed) and then `ready`, the
 * service's own check with its deadline. testcontainers' `restart()` waited for Redis's log line
 * in the logs since the restart with a 60 s default, and a test once spent its whole 60 s in a
 * restart. Operations run one after the other; stop and kill do nothing when stopped, start
 * nothing when running.
 */
function containerService(container: StartedTestContainer, port: number, url: string, ready: () => Promise<void>): ContainerService {
  const id = container.getId();
  let running = true;
  let removed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = (operation: () => Promise<void>) => (): Promise<void> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };
  return {
    url,
    port,
    dataDir: `docker:${id}`,
    stop: serialized(async () => {
      if (!running) return;
      await docker(['stop', '--time', String(STOP_TIMEOUT_SECONDS), id]);
      running = false;
    }),
    kill: serialized(async () => {
      if (!running) return;
      await docker(['kill', id]);
      await docker(['wait', id]);
      running = false;
    }),
    start: serialized(async () => {
      if (removed) throw new Error(`container ${id} was removed`);
      if (running) return;
      await docker(['start', id]);
      await ready();
      running = true;
    }),
    remove: serialized(async () => {
      if (removed) return;
      removed = true;
      running = false;
      await docker(['rm', '--force', '--volumes', id]);
    }),
  };
}

/**
 * A Redis server (16 databases, `noeviction`, protected mode off) at `redis://127.0.0.1:PORT`.
 */
export async function startRedisContainer(options: RedisContainerOptions = {}): Promise<ContainerService> {
  const { RedisContainer } = await loadTestcontainers();
  const command = [
    'redis-server',
    '--protected-mode',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--databases',
    '16',
    '--appendonly',
    options.appendFsync ? 'yes' : 'no',
    ...(options.appendFsync ? ['--appendfsync', options.appendFsync, '--auto-aof-rewrite-min-size', REDIS_AOF_REWRITE_MIN_SIZE] : []),
    ...(options.snapshots === false ? ['--save', ''] : []),
    ...(options.maxMemory ? ['--maxmemory', options.maxMemory] : []),
  ];
  const { container, port } = await startOnFreeHostPort('redis', async (hostPort, name) => {
    const started = await new RedisContainer(imageOf('REDIS_IMAGE'))
      .withName(name)
      .withLabels(testLabels())
      .withCommand(command)
      .withExposedPorts({ container: REDIS_PORT, host: hostPort })
      .start();
    await waitForRedis(hostPort);
    return started;
  });
  return containerService(container, port, `redis://${container.getHost()}:${port}`, () => waitForRedis(port));
}

/**
 * A PostgreSQL server (max_connections 200) at `postgres://eap:eap@127.0.0.1:PORT/postgres`;
 * `eap` is the superuser.
 */
export async function startPostgresContainer(options: PostgresContainerOptions = {}): Promise<ContainerService> {
  const { PostgreSqlContainer, Wait } = await loadTestcontainers();
  const settings = ['max_connections=200', ...(options.fast ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : [])];
  const { container, port } = await startOnFreeHostPort('postgres', (hostPort, name) =>
    new PostgreSqlContainer(imageOf('POSTGRES_IMAGE'))
      .withName(name)
      .withLabels(testLabels())
      .withUsername(POSTGRES_USER)
      .withPassword(POSTGRES_PASSWORD)
      .withDatabase('postgres')
      .withEnvironment(options.fast ? { POSTGRES_INITDB_ARGS: '--no-sync' } : {})
      .withCommand(['postgres', ...settings.flatMap((setting) => ['-c', setting])])
      .withSharedMemorySize(SHARED_MEMORY_BYTES)
      .withExposedPorts({ container: POSTGRES_PORT, host: hostPort })
      // Ready once it accepts TCP connections (not while initdb runs or crash recovery replays
      // the WAL), polled only while (re)starting. The module's default health check would exec
      // pg_isready in the container four times a second for as long as it runs, which costs a
      // busy 2-core machine; this one, for `docker ps`, runs twice a minute.
      .withHealthCheck({ test: ['CMD-SHELL', PG_ISREADY], interval: 30_000, timeout: 5_000, retries: 3 })
      .withWaitStrategy(Wait.forSuccessfulCommand(PG_ISREADY))
      .start(),
  );
  return containerService(container, port, `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@${container.getHost()}:${port}/postgres`, () =>
    waitForPostgres(container.getId()),
  );
}
