import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, entryEventCount, entryEvents, type Logger } from '@eap/core';
import type { BatchProcessor, Decoded } from './batch-processor.ts';
import type { WorkerMetrics } from './metrics.ts';
import type { PendingRecovery } from './pending-recovery.ts';
import { backoffDelay, sleep } from './retry.ts';
import { batchesOf, createReadBudget, mayStartBatch } from './read-budget.ts';
import { entriesFromRead, type RawEntries, type StreamEntry } from './stream-entries.ts';

export interface StreamConsumerOptions {
  /** Connection used only for the blocking XREADGROUP (a blocked connection can do nothing else). */
  blockingRedis: Redis;
  redis: Redis;
  keys: string[];
  consumer: string;
  batchSize: number;
  /** Most entry data per batch, in bytes; reads are sized by it too (see read-budget.ts). */
  batchBytes: number;
  /** Batches written at the same time. */
  concurrency: number;
  /** Most entry data, in bytes, in the batches written at the same time (see mayStartBatch). */
  maxBytesInFlight: number;
  blockMs: number;
  /** Least time between the starts of two reads while the worker has caught up, in ms. */
  lingerMs: number;
  claimIntervalMs: number;
  claimIdleMs: number;
  maxDeliveries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  processor: BatchProcessor;
  recovery: PendingRecovery;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Called with true while writes fail transiently, false once they succeed again. */
  onHealthChange: (failing: boolean) => void;
}

/**
 * The worker loop: reads new entries from every shard, stores them, and between reads takes over
 * entries stuck with dead consumers. It never dies from one bad entry (those go to the DLQ) and
 * never drops entries on infrastructure failures: it retries with backoff while keeping them
 * pending, and picks up where it was when Redis or PostgreSQL come back.
 */
export function createStreamConsumer(options: StreamConsumerOptions) {
  const { redis, blockingRedis, keys, consumer, logger, metrics } = options;
  const shardOf = new Map(keys.map((k, i) => [k, i]));
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  let lastClaimAt = 0;
  const budget = createReadBudget({ batchSize: options.batchSize, batchBytes: options.batchBytes, shards: keys.length });

  async function ensureGroups(): Promise<void> {
    for (const key of keys) {
      try {
        await redis.xgroup('CREATE', key, CONSUMER_GROUP, '0', 'MKSTREAM');
      } catch (error) {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
      }
    }
  }

  /**
   * The next entries, and whether the streams held fewer than were asked for (every shard gave
   * less than its count: the worker has caught up with the API).
   */
  async function read(): Promise<{ entries: StreamEntry[]; caughtUp: boolean }> {
    // COUNT applies per stream: ask each shard for its share, so one read is about one batch, by
    // entries and by bytes, and memory stays bounded by batch × concurrency whatever the backlog.
    const count = budget.perShardCount();
    const args: (string | number)[] = ['GROUP', CONSUMER_GROUP, consumer, 'COUNT', count, 'BLOCK', options.blockMs];
    args.push('STREAMS', ...keys, ...keys.map(() => '>'));
    // The typed method, not `call`: ioredis post-processes this reply shape only there. As bytes:
    // the data goes to PostgreSQL without being decoded into strings and encoded again.
    const xreadgroup = blockingRedis.xreadgroupBuffer as unknown as (...a: (string | number)[]) => Promise<[Buffer, RawEntries][] | null>;
    const reply = await xreadgroup.apply(blockingRedis, args);
    const entries = entriesFromRead(reply, (key) => shardOf.get(key) ?? 0);
    budget.observe(entries);
    return { entries, caughtUp: reply === null || reply.every(([, shardEntries]) => shardEntries.length < count) };
  }

  /** Stores a batch, retrying infrastructure failures until they pass or the worker stops. */
  async function handle(entries: StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    metrics.batchSize.observe(entries.reduce((events, entry) => events + entryEventCount(entry.fields), 0));
    let attempt = 0;
    let lastTouch = Date.now();
    // Decoded once: prepare() dead-letters what it rejects; from then on only `items` are retried.
    let items: Decoded[] | undefined;
    for (;;) {
      try {
        items ??= await options.processor.prepare(entries, Date.now());
        await options.processor.store(items);
        if (attempt > 0) {
          options.onHealthChange(false);
          logger.info({ attempts: attempt + 1 }, 'batch stored after retries');
        }
        return;
      } catch (error) {
        // What is still pending: the entries of the items left to store, once prepared (worked out
        // here, not on every batch: only a failure needs it).
        const waiting = items === undefined ? entries : [...new Set(items.map((d) => d.entry))];
        if (abort.signal.aborted) {
          logger.warn(
            { err: error, entries: waiting.length },
            'stopping with a batch unstored; its entries stay pending for another worker',
          );
          return;
        }
        options.onHealthChange(true);
        metrics.writeRetries.inc();
        const delay = backoffDelay(attempt++, options.retryBaseMs, options.retryMaxMs);
        logger.warn({ err: error, attempt, retry_in_ms: delay, entries: waiting.length }, 'batch not stored; retrying');
        await sleep(delay, abort.signal);
        if (Date.now() - lastTouch > options.claimIdleMs / 3) {
          await options.recovery.touch(waiting).catch(() => undefined);
          lastTouch = Date.now();
        }
      }
    }
  }

  // Batches being written. Up to `concurrency` at once and `maxBytesInFlight` of data, so the next
  // read and decode overlap the database round trips of the batches before instead of waiting.
  const inFlight = new Set<Promise<void>>();
  let bytesInFlight = 0;

  async function processInChunks(entries: StreamEntry[]): Promise<void> {
    for (const { entries: chunk, bytes } of batchesOf(entries, options.batchSize, options.batchBytes)) {
      if (abort.signal.aborted) break;
      while (!mayStartBatch(inFlight.size, bytesInFlight, bytes, options)) await Promise.race(inFlight);
      bytesInFlight += bytes;
      const batch = handle(chunk)
        .catch((error: unknown) => {
          logger.error({ err: error }, 'batch handling failed unexpectedly; its entries stay pending');
        })
        .finally(() => {
          bytesInFlight -= bytes;
          inFlight.delete(batch);
        });
      inFlight.add(batch);
    }
  }

  async function drainInFlight(): Promise<void> {
    await Promise.all(inFlight);
  }

  /** Takes over idle entries of dead consumers; too-often delivered ones go to the DLQ. */
  async function recoverIdle(): Promise<void> {
    for (const [shard, key] of keys.entries()) {
      const claimed = await options.recovery.claimIdle(shard, key, budget.perShardCount() * keys.length);
      if (claimed.length === 0) continue;
      metrics.entriesClaimed.inc(claimed.length);
      await processRedelivered(claimed);
    }
  }

  /**
   * Takes back what this consumer name already holds (a restart under the same name), a batch
   * at a time; returns false once nothing is left.
   */
  async function recoverOwn(): Promise<boolean> {
    let found = false;
    for (const [shard, key] of keys.entries()) {
      const claimed = await options.recovery.claimOwn(shard, key, budget.perShardCount());
      if (claimed.length === 0) continue;
      found = true;
      await processRedelivered(claimed);
    }
    // Re-reading our own pending entries would return those still being written.
    await drainInFlight();
    return found;
  }

  /** Stores redelivered entries; those delivered more than MAX_DELIVERIES times go to the DLQ. */
  async function processRedelivered(entries: StreamEntry[]): Promise<void> {
    const exhausted = entries.filter((e) => (e.deliveries ?? 1) > options.maxDeliveries);
    if (exhausted.length > 0) await deadLetterExhausted(exhausted);
    await processInChunks(entries.filter((e) => (e.deliveries ?? 1) <= options.maxDeliveries));
  }

  /** One letter per event of each entry (one for the whole entry when it does not split into events). */
  async function deadLetterExhausted(entries: StreamEntry[]): Promise<void> {
    const letters = entries.flatMap((entry) => {
      const letter = {
        entry,
        reason: 'max_deliveries' as const,
        error: `delivered ${entry.deliveries} times (MAX_DELIVERIES ${options.maxDeliveries}) without being stored`,
      };
      let events: number;
      try {
        events = entryEvents(entry.fields).length;
      } catch {
        return [letter];
      }
      return events === 1 ? [letter] : Array.from({ length: events }, (_, index) => ({ ...letter, index }));
    });
    await options.processor.deadLetter(letters);
  }

  async function run(): Promise<void> {
    let failures = 0;
    // Entries this consumer name already holds (a restart under the same name) come first.
    let ownLeft = true;
    while (!abort.signal.aborted) {
      try {
        if (ownLeft) {
          ownLeft = await recoverOwn();
          failures = 0;
          continue;
        }
        if (Date.now() - lastClaimAt >= options.claimIntervalMs) {
          lastClaimAt = Date.now();
          await recoverIdle();
        }
        const readAt = Date.now();
        const { entries, caughtUp } = await read();
        await processInChunks(entries);
        failures = 0;
        // Caught up, every read would start a batch of the few events that arrived since the last
        // one, and each would pay a transaction, a commit and an acknowledgement: the next read
        // waits until at most one batch is in flight, so it takes everything that arrived
        // meanwhile as one batch (group commit), while one batch still overlaps the next. Behind,
        // reads are full and up to `concurrency` batches overlap (benchmarks/profiles.md,
        // "Eighteenth round").
        if (caughtUp) {
          while (inFlight.size > 1) await Promise.race(inFlight);
          // And it starts a read at most once per `lingerMs`, so steady traffic well below its
          // capacity is written in batches of that many ms of events, not one batch per few
          // events (benchmarks/profiles.md, "Nineteenth round"). A read that found nothing has
          // waited already.
          const linger = readAt + options.lingerMs - Date.now();
          if (entries.length > 0 && linger > 0) await sleep(linger, abort.signal);
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        if (String((error as Error).message).includes('NOGROUP')) {
          logger.warn('consumer group missing (Redis lost its data?); recreating it');
          await ensureGroups().catch(() => undefined);
        }
        const delay = backoffDelay(failures++, options.retryBaseMs, options.retryMaxMs);
        logger.warn({ err: error, retry_in_ms: delay }, 'reading the streams failed; retrying');
        await sleep(delay, abort.signal);
      }
    }
  }

  return {
    ensureGroups,
    start(): void {
      loop ??= run();
    },
    /** Stops reading, lets the batches in hand finish (or leaves them pending), resolves when all ended. */
    async stop(): Promise<void> {
      abort.abort();
      // Unblock a pending XREADGROUP BLOCK at once.
      blockingRedis.disconnect();
      await loop;
      await drainInFlight();
    },
  };
}
export type StreamConsumer = ReturnType<typeof createStreamConsumer>;
