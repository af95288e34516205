import { hostname } from 'node:os';
import { EVENT_TIME_VARS, intVar, parseEnv, SHARED_VARS } from '@eap/core';
import { z } from 'zod';

/**
 * Configuration of `eap worker`, read from the environment once at start; every bad variable is
 * reported at once. Each variable is documented by its description; its default and range are
 * the schema's (reference: docs/configuration.md, `make docs`).
 */
export const WorkerConfigSchema = z.object({
  ...SHARED_VARS,
  ...EVENT_TIME_VARS,
  CONSUMER_NAME: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("This worker's consumer name in the group; unset: `POD_NAME`, else hostname-pid. Must be unique per worker."),
  POD_NAME: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Pod name (Kubernetes downward API); the consumer name when `CONSUMER_NAME` is unset.'),
  // 2000: with 1000, a worker at full load with batches of 100 wrote batches of 620 events on
  // average, as each read asks every shard for its share of a batch and the shards are seldom all
  // full; with 2000, 1 MiB of `WORKER_BATCH_BYTES` ends such batches at about 1,000 events, and the
  // worker and PostgreSQL spent 4 % less CPU per event (benchmarks/profiles.md, "Twenty-fourth round").
  WORKER_BATCH_SIZE: intVar(2000, 1, 10_000).describe(
    "Most events per batch written to PostgreSQL, and about the most read at once; with events of a few hundred bytes, `WORKER_BATCH_BYTES` usually ends a batch first. An entry (a request's events of one shard, or a project's single events of one shard that reached the API together) is never split, so an entry holding more is a batch of its own.",
  ),
  // 1 MiB: about 1,700 small events (~600 characters each), so it ends their batches before
  // `WORKER_BATCH_SIZE` does, and a worker draining the largest events peaks about 60 MiB lower
  // than with 4 MiB (benchmarks/profiles.md).
  WORKER_BATCH_BYTES: intVar(1024 * 1024, 64 * 1024, 256 * 1024 * 1024).describe(
    'Most event data per batch, in bytes of the stream entries as Redis holds them: reads and batches are sized by it as well as by `WORKER_BATCH_SIZE`, so memory stays bounded whatever the size of the events. Memory grows with it: about 15 MiB of resident memory per MiB with the largest events.',
  ),
  // 4: while one batch commits and another is sent, PostgreSQL's backends and the worker still have
  // work; with 2 the machine sat about a tenth idle at full load (benchmarks/profiles.md, "Twelfth change").
  WORKER_CONCURRENCY: intVar(4, 1, 32).describe(
    'Batches written to PostgreSQL at the same time (reads and decoding overlap writes), each on its own connection: keep `PG_POOL_SIZE` above it. `WORKER_BYTES_IN_FLIGHT` may hold fewer at once, and a worker that has caught up with the streams writes two at most, so what arrives meanwhile makes one batch.',
  ),
  // 3 MiB: four batches of small events, three of the largest; four of the largest (4 MiB) took a
  // worker to 154 MiB, over its 150 MiB budget (benchmarks/profiles.md, "Twelfth change").
  WORKER_BYTES_IN_FLIGHT: intVar(3 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024).describe(
    "Most event data in the batches being written at the same time, in bytes of the stream entries as Redis holds them: a batch waits until it fits, so with large events fewer than `WORKER_CONCURRENCY` batches are in flight. One batch always goes, whatever its size. Bounds the worker's memory with the largest events, with `WORKER_BATCH_BYTES`.",
  ),
  WORKER_BLOCK_MS: intVar(200, 1, 10_000).describe('How long one `XREADGROUP` waits for new entries, in ms.'),
  // 50: at 400 single events/s a worker spent 0.22 ms of CPU per event and PostgreSQL 0.11,
  // against 1.2 and 0.75 reading as soon as it could (benchmarks/profiles.md, "Nineteenth round").
  WORKER_LINGER_MS: intVar(50, 0, 1000).describe(
    'A worker that has caught up with the streams starts a read at most once per this many ms, so what arrives meanwhile is written as one batch rather than as many small ones, each with its own transaction, commit and acknowledgement. Adds up to this to the time from acceptance to storage while traffic is light; a worker behind the streams reads on without waiting. 0 reads again as soon as a batch may start.',
  ),
  CLAIM_IDLE_MS: intVar(30_000, 100, 3_600_000).describe('Pending entries idle longer than this (ms) are taken over from other consumers.'),
  CLAIM_INTERVAL_MS: intVar(5_000, 50, 3_600_000).describe('How often to look for entries to take over, in ms.'),
  MAX_DELIVERIES: intVar(5, 1, 1000).describe(
    'Deliveries after which an entry goes to the dead-letter stream (`max_deliveries`); every delivery counts, including a restarted worker taking back its own entries.',
  ),
  TRIM_INTERVAL_MS: intVar(10_000, 50, 3_600_000).describe(
    'How often each shard is trimmed to the oldest entry still needed and lag, pending and DLQ size are measured, in ms.',
  ),
  CONSUMER_IDLE_DELETE_MS: intVar(3_600_000, 1000, 30 * 86_400_000).describe(
    'Consumers idle this long (ms) with nothing pending are removed from the group.',
  ),
  DLQ_MAX_ENTRIES: intVar(100_000, 100, 100_000_000).describe(
    'Most entries kept in the dead-letter stream `eap:dlq`; beyond it the oldest are dropped, counted by `eap_worker_dlq_trimmed_total` (alert `EapDeadLettersDropped`).',
  ),
  MAX_EVENT_FUTURE_DAYS: intVar(2, 1, 365).describe('Events further than this many days in the future are dead-lettered.'),
  DEDUP_WINDOW_DAYS: intVar(7, 1, 365).describe(
    'A retried event (same project and `event_id`) is stored once within this many days, whatever time it carries; older repeats are skipped only when their stored time is the same.',
  ),
  RETRY_BASE_MS: intVar(100, 1, 60_000).describe('First retry delay after a transient PostgreSQL failure, in ms (doubles, with jitter).'),
  RETRY_MAX_MS: intVar(5_000, 10, 300_000).describe('Longest retry delay, in ms.'),
  PG_POOL_SIZE: intVar(5, 1, 100).describe(
    'PostgreSQL connections of this worker: one per batch in flight (`WORKER_CONCURRENCY`) and one for partitions and maintenance.',
  ),
  SHUTDOWN_DRAIN_MS: intVar(20_000, 0, 300_000).describe('Time allowed to finish the batch in hand on SIGTERM, in ms.'),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(WorkerConfigSchema, env);
}

/** The consumer name of this process in the group. */
export function consumerNameOf(config: WorkerConfig): string {
  return config.CONSUMER_NAME ?? config.POD_NAME ?? `${hostname()}-${process.pid}`;
}
