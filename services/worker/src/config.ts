import { hostname } from 'node:os';
import { intVar, parseEnv, SHARED_VARS } from '@eap/core';
import { z } from 'zod';

/**
 * Configuration of `eap worker`, read from the environment once at start; every variable is
 * documented with its default and every bad one is reported at once.
 */
export const WorkerConfigSchema = z.object({
  ...SHARED_VARS,
  /** Consumer name in the group; default POD_NAME, else hostname-pid. Must be unique per worker. */
  CONSUMER_NAME: z.string().min(1).max(200).optional(),
  /** Pod name (Kubernetes downward API); used as consumer name when CONSUMER_NAME is unset. */
  POD_NAME: z.string().min(1).max(200).optional(),
  /** Most entries read (and written to PostgreSQL) per batch. Default 1000. */
  WORKER_BATCH_SIZE: intVar(1000, 1, 10_000),
  /** Batches written to PostgreSQL at the same time (reads overlap writes). Default 2. */
  WORKER_CONCURRENCY: intVar(2, 1, 32),
  /** How long one XREADGROUP blocks waiting for new entries, in ms. Default 200. */
  WORKER_BLOCK_MS: intVar(200, 1, 10_000),
  /** Pending entries idle longer than this (ms) are taken over from other consumers. Default 30000. */
  CLAIM_IDLE_MS: intVar(30_000, 100, 3_600_000),
  /** How often to look for entries to take over, in ms. Default 5000. */
  CLAIM_INTERVAL_MS: intVar(5_000, 50, 3_600_000),
  /** Deliveries after which an entry goes to the dead-letter stream. Default 5. */
  MAX_DELIVERIES: intVar(5, 1, 1000),
  /** How often each shard is trimmed to the oldest entry still needed, in ms. Default 10000. */
  TRIM_INTERVAL_MS: intVar(10_000, 50, 3_600_000),
  /** Consumers idle this long (ms) with nothing pending are removed from the group. Default 3600000 (1 h). */
  CONSUMER_IDLE_DELETE_MS: intVar(3_600_000, 1000, 30 * 86_400_000),
  /** Drop daily partitions older than this many days; unset keeps everything. */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  /** Events older than this many days are dead-lettered (when no retention is set). Default 730. */
  MAX_EVENT_AGE_DAYS: intVar(730, 1, 36_500),
  /** Events further than this many days in the future are dead-lettered. Default 2. */
  MAX_EVENT_FUTURE_DAYS: intVar(2, 1, 365),
  /** First retry delay after a transient PostgreSQL failure, in ms (doubles, with jitter). Default 100. */
  RETRY_BASE_MS: intVar(100, 1, 60_000),
  /** Longest retry delay, in ms. Default 5000. */
  RETRY_MAX_MS: intVar(5_000, 10, 300_000),
  /** PostgreSQL connections of this worker. Default 4. */
  PG_POOL_SIZE: intVar(4, 1, 100),
  /** Time allowed to finish the batch in hand on SIGTERM, in ms. Default 20000. */
  SHUTDOWN_DRAIN_MS: intVar(20_000, 0, 300_000),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(WorkerConfigSchema, env);
}

/** The consumer name of this process in the group. */
export function consumerNameOf(config: WorkerConfig): string {
  return config.CONSUMER_NAME ?? config.POD_NAME ?? `${hostname()}-${process.pid}`;
}
