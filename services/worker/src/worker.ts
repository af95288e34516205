import { Redis } from 'ioredis';
import pg from 'pg';
import { buildAdminApp } from '@eap/admin-server';
import { createLogger, type Logger, maxEventAgeDays, streamKeys } from '@eap/core';
import { schemaReadinessCheck } from '@eap/db';
import { createBatchProcessor } from './batch-processor.ts';
import { consumerNameOf, type WorkerConfig } from './config.ts';
import { createDeadLetterQueue } from './dead-letter.ts';
import { createDlqTool } from './dlq-replay.ts';
import { createEventWriter } from './event-writer.ts';
import { createWorkerMetrics } from './metrics.ts';
import { pruneEventIds } from './dedup-window.ts';
import { createPartitionManager } from './partition-manager.ts';
import { createPendingRecovery } from './pending-recovery.ts';
import { createStreamConsumer } from './stream-consumer.ts';
import { createStreamMaintenance } from './stream-maintenance.ts';

const HOUR_MS = 3_600_000;
const PARTITIONS_AHEAD_DAYS = 7;

/**
 * Composition root of `eap worker`: Redis connections (one for blocking reads, one for the rest),
 * the PostgreSQL pool, the consumer loop, periodic maintenance (trimming, idle consumers,
 * partitions ahead and retention) and the admin server. `stop()` stops reading, lets the batch in
 * hand finish within SHUTDOWN_DRAIN_MS, and closes everything in order.
 */
export async function createWorker(config: WorkerConfig, logger: Logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-worker' })) {
  const consumer = consumerNameOf(config);
  const keys = streamKeys(config.STREAM_SHARDS);
  const metrics = createWorkerMetrics();
  const redisOptions = {
    maxRetriesPerRequest: 2,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
    lazyConnect: true,
  };
  const redis = new Redis(config.REDIS_URL, { ...redisOptions, connectionName: `eap-worker:${consumer}`, commandTimeout: 10_000 });
  // The blocking read gets a timeout well above its BLOCK time, so a silently dead connection
  // fails the read (and the loop reconnects) instead of hanging forever.
  const blockingRedis = new Redis(config.REDIS_URL, {
    ...redisOptions,
    connectionName: `eap-worker-read:${consumer}`,
    commandTimeout: config.WORKER_BLOCK_MS + 10_000,
  });
  for (const r of [redis, blockingRedis]) r.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.PG_POOL_SIZE,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // A query stuck on a half-dead connection must not hold the worker forever.
    query_timeout: 120_000,
    keepAlive: true,
    application_name: `eap-worker:${consumer}`.slice(0, 63),
  });
  // Log the cause only: pg attaches the whole client to these errors.
  pool.on('error', (error) => logger.warn({ code: (error as { code?: string }).code, error: error.message }, 'postgres idle client error'));

  const partitions = createPartitionManager(pool, logger);
  const dlq = createDeadLetterQueue(redis, {
    maxEntries: config.DLQ_MAX_ENTRIES,
    onTrimmed: (count) => {
      metrics.dlqTrimmed.inc(count);
      logger.error({ trimmed: count, max_entries: config.DLQ_MAX_ENTRIES }, 'dead-letter stream full: its oldest entries were dropped');
    },
  });
  const processor = createBatchProcessor({
    writer: createEventWriter(pool),
    partitions,
    dlq,
    metrics,
    logger,
    maxEventAgeDays: maxEventAgeDays(config),
    maxEventFutureDays: config.MAX_EVENT_FUTURE_DAYS,
  });
  let writesFailing = false;
  let shuttingDown = false;
  const streamConsumer = createStreamConsumer({
    blockingRedis,
    redis,
    keys,
    consumer,
    batchSize: config.WORKER_BATCH_SIZE,
    batchBytes: config.WORKER_BATCH_BYTES,
    concurrency: config.WORKER_CONCURRENCY,
    maxBytesInFlight: config.WORKER_BYTES_IN_FLIGHT,
    blockMs: config.WORKER_BLOCK_MS,
    lingerMs: config.WORKER_LINGER_MS,
    claimIntervalMs: config.CLAIM_INTERVAL_MS,
    claimIdleMs: config.CLAIM_IDLE_MS,
    maxDeliveries: config.MAX_DELIVERIES,
    retryBaseMs: config.RETRY_BASE_MS,
    retryMaxMs: config.RETRY_MAX_MS,
    processor,
    recovery: createPendingRecovery({ redis, consumer, idleMs: config.CLAIM_IDLE_MS }),
    metrics,
    logger,
    onHealthChange: (failing) => {
      writesFailing = failing;
    },
  });
  const maintenance = createStreamMaintenance({
    redis,
    keys,
    consumer,
    consumerIdleDeleteMs: config.CONSUMER_IDLE_DELETE_MS,
    letters: createDlqTool(redis, keys.length),
    metrics,
    logger,
  });

  const admin = await buildAdminApp({
    logger,
    registry: metrics.registry,
    isShuttingDown: () => shuttingDown,
    checks: [
      { name: 'redis', check: async () => ({ ok: (await redis.ping()) === 'PONG' }) },
      schemaReadinessCheck(pool),
      {
        name: 'writes',
        check: async () => ({ ok: !writesFailing, detail: writesFailing ? 'batches are failing and being retried' : 'ok' }),
      },
    ],
  });

  const timers: NodeJS.Timeout[] = [];
  let maintenanceRunning: Promise<unknown> | undefined;
  function every(ms: number, task: () => Promise<unknown>): void {
    const t = setInterval(() => {
      if (maintenanceRunning || shuttingDown) return;
      maintenanceRunning = task()
        .catch((error: unknown) => logger.warn({ err: error }, 'periodic task failed; will retry'))
        .finally(() => {
          maintenanceRunning = undefined;
        });
    }, ms);
    t.unref();
    timers.push(t);
  }

  async function partitionRound(): Promise<void> {
    await partitions.ensureAhead(Date.now(), PARTITIONS_AHEAD_DAYS);
    metrics.eventIdsPruned.inc(await pruneEventIds(pool, config.DEDUP_WINDOW_DAYS));
    if (config.EVENT_RETENTION_DAYS !== undefined) {
      const dropped = await partitions.dropExpired(Date.now(), config.EVENT_RETENTION_DAYS + 1);
      metrics.partitionsDropped.inc(dropped.length);
    }
  }

  async function start(): Promise<{ adminPort: number }> {
    await Promise.all([redis.connect(), blockingRedis.connect()]);
    await streamConsumer.ensureGroups();
    await partitionRound().catch((error: unknown) => logger.warn({ err: error }, 'partition maintenance failed at start; will retry'));
    await admin.listen({ port: config.ADMIN_PORT, host: config.HOST });
    streamConsumer.start();
    every(config.TRIM_INTERVAL_MS, () => maintenance.runOnce());
    every(HOUR_MS, partitionRound);
    const adminPort = (admin.server.address() as { port: number }).port;
    logger.info({ consumer, shards: keys.length, admin_port: adminPort }, 'eap worker started');
    return { adminPort };
  }

  async function stop(): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const t of timers) clearInterval(t);
    const drained = await Promise.race([
      streamConsumer.stop().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.SHUTDOWN_DRAIN_MS).unref()),
    ]);
    if (!drained) logger.warn('drain deadline reached; unfinished entries stay pending for another worker');
    await maintenanceRunning;
    await admin.close();
    redis.disconnect();
    await pool.end();
  }

  return { consumer, keys, redis, pool, metrics, maintenance, processor, start, stop, isWriting: () => !writesFailing };
}
export type Worker = Awaited<ReturnType<typeof createWorker>>;
