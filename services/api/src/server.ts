import { Redis } from 'ioredis';
import pg from 'pg';
import { createLogger, type Logger } from '@eap/core';
import {
  createDeadLetterRemoval,
  createPipelineDrain,
  createProject,
  deletePerson,
  deleteProject,
  findActiveKey,
  listProjects,
  schemaReadinessCheck,
  updateProjectSettings,
} from '@eap/db';
import { buildAdminApp } from '@eap/admin-server';
import { buildApp } from './app.ts';
import { createBacklogMonitor } from './backlog-monitor.ts';
import type { ApiConfig } from './config.ts';
import { createIngestService } from './ingest-service.ts';
import { createKeyAuthenticator } from './key-authenticator.ts';
import { createApiMetrics } from './metrics.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { DELETION_PIPELINE_WAIT_MS } from './routes/deletion.routes.ts';
import { createQueryConcurrency } from './query/query-concurrency.ts';
import { createQueryRunner } from './query/query-runner.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { createStreamProducer } from './stream-producer.ts';

/**
 * Composition root of the API process: builds clients, the public app and the admin app from
 * one config. `start()` listens on PORT and ADMIN_PORT; `stop()` drains and closes everything in
 * order (stop accepting, finish in-flight requests, then close Redis and PostgreSQL). With
 * API_SERVE=query the process never connects to Redis: no backlog monitor, and readiness asks
 * PostgreSQL only.
 */
export async function createApiServer(config: ApiConfig, logger: Logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-api' })) {
  const metrics = createApiMetrics();
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: 4,
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    application_name: 'eap-api',
  });
  // An idle client that loses its connection emits 'error' on the pool; it is replaced on next use.
  // Log the cause only: pg attaches the whole client to these errors.
  pool.on('error', (error) => logger.warn({ code: (error as { code?: string }).code, error: error.message }, 'postgres idle client error'));
  // Queries get their own connections: a few slow analytics queries must never make ingest wait
  // for a connection to look a key up. Waiting for a free one is bounded by the query timeout.
  // The session defaults bound every statement of these connections, the time zone check and
  // transaction control included; each query transaction sets its own on top.
  const queryPool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.QUERY_POOL_SIZE,
    connectionTimeoutMillis: config.QUERY_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    application_name: 'eap-api-query',
    statement_timeout: config.QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: config.QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
  queryPool.on('error', (error) =>
    logger.warn({ code: (error as { code?: string }).code, error: error.message }, 'postgres idle query client error'),
  );
  const redis = new Redis(config.REDIS_URL, {
    // Fail fast while disconnected: ingest answers 503 instead of holding requests.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
    connectionName: 'eap-api',
    // No auto-pipelining: the stream producer already sends the appends of every request of a
    // turn in one script call, and wrapping that call in a pipeline of its own cost the API about
    // 2 µs of CPU per single-event request (benchmarks/profiles.md).
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    lazyConnect: true,
  });
  redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  let redisWasReady = false;
  redis.on('ready', () => {
    if (redisWasReady) logger.info('redis reconnected');
    redisWasReady = true;
  });

  const keys = createKeyAuthenticator({
    lookup: (hash) => findActiveKey(pool, hash),
    ttlMs: config.KEY_CACHE_TTL_MS,
    negativeTtlMs: config.KEY_NEGATIVE_CACHE_TTL_MS,
    onLookup: (result) => metrics.keyLookups.inc({ result }),
  });
  const backlog = createBacklogMonitor({
    redis,
    shards: config.STREAM_SHARDS,
    limits: {
      maxEntries: config.STREAM_BACKLOG_CAP,
      projectPercent: config.STREAM_BACKLOG_PROJECT_PERCENT,
      maxBytes: config.STREAM_BACKLOG_MAX_BYTES,
      memoryPercentOfMax: config.STREAM_BACKLOG_MEMORY_PERCENT,
    },
    intervalMs: config.BACKLOG_POLL_MS,
    logger,
    onMeasure: (n) => metrics.streamBacklog.set(n),
  });
  const producer = createStreamProducer(redis, { observeCallSeconds: (s) => metrics.streamAppendDuration.observe(s) });
  const usesRedis = config.API_SERVE !== 'query';
  const waitForPipeline = createPipelineDrain(redis, { shards: config.STREAM_SHARDS, timeoutMs: DELETION_PIPELINE_WAIT_MS });
  const removeDeadLetters = createDeadLetterRemoval(redis);
  let shuttingDown = false;

  const app = await buildApp({
    logger,
    metrics,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    ingest: {
      config,
      keys,
      rateLimiter: createRateLimiter({ ratePerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST }),
      backlogRefusal: backlog.refusal,
      streamReady: () => redis.status === 'ready',
      ingest: createIngestService({ producer, metrics }),
    },
    projects: {
      adminToken: config.EAP_ADMIN_TOKEN,
      createProject: (name) => createProject(pool, name),
      listProjects: () => listProjects(pool),
      updateProjectSettings: (projectId, update) => updateProjectSettings(pool, projectId, update),
    },
    deletions: {
      adminToken: config.EAP_ADMIN_TOKEN,
      deletePerson: (projectId, distinctId) => deletePerson(pool, projectId, distinctId, { waitForPipeline, removeDeadLetters }),
      deleteProject: (projectId) => deleteProject(pool, projectId, { waitForPipeline, removeDeadLetters }),
    },
    query: {
      keys,
      rateLimiter: createRateLimiter({ ratePerSecond: config.QUERY_RATE_LIMIT_PER_SECOND, burst: config.QUERY_RATE_LIMIT_BURST }),
      runner: createQueryRunner({
        pool: queryPool,
        timeoutMs: config.QUERY_TIMEOUT_MS,
        idleInTransactionTimeoutMs: config.QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        workMemMb: config.QUERY_WORK_MEM_MB,
      }),
      concurrency: createQueryConcurrency({
        perKey: config.QUERY_MAX_CONCURRENT_PER_KEY,
        total: config.QUERY_MAX_CONCURRENT,
        onRefused: (limit) => metrics.queriesRefused.inc({ limit }),
        onRunning: (running) => metrics.queriesRunning.set(running),
      }),
    },
    openapi: buildOpenApiDocument(),
    serve: config.API_SERVE,
    trustedProxies: config.TRUSTED_PROXIES,
    isShuttingDown: () => shuttingDown,
  });
  const admin = await buildAdminApp({
    logger,
    registry: metrics.registry,
    isShuttingDown: () => shuttingDown,
    checks: [
      ...(usesRedis ? [{ name: 'redis', check: async () => ({ ok: (await redis.ping()) === 'PONG' }) }] : []),
      schemaReadinessCheck(pool),
    ],
  });

  async function start(): Promise<{ port: number; adminPort: number }> {
    if (usesRedis) {
      // Connect in the background: the API starts (and reports not ready) even when Redis is down.
      redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'redis not reachable yet; retrying'));
      backlog.start();
    }
    await app.listen({ port: config.PORT, host: config.HOST });
    await admin.listen({ port: config.ADMIN_PORT, host: config.HOST });
    const port = (app.server.address() as { port: number }).port;
    const adminPort = (admin.server.address() as { port: number }).port;
    logger.info({ port, admin_port: adminPort, shards: config.STREAM_SHARDS, serve: config.API_SERVE }, 'eap api listening');
    return { port, adminPort };
  }

  /**
   * Reports not ready and keeps serving for SHUTDOWN_DELAY_MS (connections closed after each
   * response), then stops accepting, waits up to SHUTDOWN_DRAIN_MS for in-flight requests, and
   * closes the clients.
   */
  async function stop(): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    if (config.SHUTDOWN_DELAY_MS > 0) {
      logger.info({ delay_ms: config.SHUTDOWN_DELAY_MS }, 'shutting down: not ready, serving until replicas take over');
      await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DELAY_MS));
    }
    const drainTimer = setTimeout(() => {
      logger.warn('drain deadline reached; closing remaining connections');
      app.server.closeAllConnections();
    }, config.SHUTDOWN_DRAIN_MS);
    try {
      await app.close();
    } finally {
      clearTimeout(drainTimer);
    }
    await admin.close();
    await backlog.stop();
    redis.disconnect();
    await Promise.all([pool.end(), queryPool.end()]);
  }

  return { app, admin, redis, pool, queryPool, metrics, backlog, start, stop };
}
export type ApiServer = Awaited<ReturnType<typeof createApiServer>>;
