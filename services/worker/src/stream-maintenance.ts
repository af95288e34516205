import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, compareStreamIds, DLQ_STREAM, nextStreamId } from '@eap/core';
import type { Logger } from '@eap/core';
import type { WorkerMetrics } from './metrics.ts';

/** Reads a flat `[name, value, name, value…]` reply into a map. */
function asMap(flat: unknown[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
  return m;
}

/**
 * The oldest entry id of a stream that some consumer group still needs: its smallest pending id
 * (delivered, not acknowledged), or the entry after its last delivered id (not delivered yet).
 * Undefined when the stream has no group: then nothing may be trimmed.
 */
export async function oldestNeededId(redis: Redis, key: string): Promise<string | undefined> {
  const groups = ((await redis.xinfo('GROUPS', key)) as unknown[][]).map(asMap);
  let oldest: string | undefined;
  for (const group of groups) {
    const name = String(group.get('name'));
    let candidate: string;
    if (Number(group.get('pending') ?? 0) > 0) {
      const summary = (await redis.xpending(key, name)) as [number, string | null, string | null, unknown];
      candidate = summary[1] ?? nextStreamId(String(group.get('last-delivered-id')));
    } else {
      candidate = nextStreamId(String(group.get('last-delivered-id') ?? '0-0'));
    }
    if (oldest === undefined || compareStreamIds(candidate, oldest) < 0) oldest = candidate;
  }
  return oldest;
}

/**
 * Periodic housekeeping of the shard streams: trims each one to the oldest entry any consumer
 * group still needs (XTRIM MINID: never an undelivered or pending entry), removes consumers that
 * have been idle with nothing pending for a long time, and measures lag, pending and DLQ size.
 */
export function createStreamMaintenance(options: {
  redis: Redis;
  keys: string[];
  consumer: string;
  consumerIdleDeleteMs: number;
  metrics: WorkerMetrics;
  logger: Logger;
}) {
  const { redis, metrics, logger } = options;

  async function trim(key: string): Promise<number> {
    const exists = await redis.exists(key);
    if (!exists) return 0;
    const minId = await oldestNeededId(redis, key);
    if (minId === undefined) return 0;
    const trimmed = Number(await redis.xtrim(key, 'MINID', minId));
    metrics.entriesTrimmed.inc(trimmed);
    return trimmed;
  }

  async function removeIdleConsumers(key: string): Promise<string[]> {
    const consumers = ((await redis.xinfo('CONSUMERS', key, CONSUMER_GROUP)) as unknown[][]).map(asMap);
    const removed: string[] = [];
    for (const c of consumers) {
      const name = String(c.get('name'));
      if (name === options.consumer || Number(c.get('pending')) > 0 || Number(c.get('idle')) < options.consumerIdleDeleteMs) continue;
      await redis.xgroup('DELCONSUMER', key, CONSUMER_GROUP, name);
      removed.push(name);
      metrics.consumersRemoved.inc();
      logger.info({ stream: key, consumer: name }, 'removed idle consumer');
    }
    return removed;
  }

  async function measure(): Promise<void> {
    for (const [shard, key] of options.keys.entries()) {
      if (!(await redis.exists(key))) continue;
      for (const group of ((await redis.xinfo('GROUPS', key)) as unknown[][]).map(asMap)) {
        if (group.get('name') !== CONSUMER_GROUP) continue;
        const lag = group.get('lag');
        metrics.streamBacklog.set({ shard: String(shard) }, lag === null || lag === undefined ? await redis.xlen(key) : Number(lag));
        metrics.streamPending.set({ shard: String(shard) }, Number(group.get('pending') ?? 0));
      }
    }
    metrics.dlqLength.set(await redis.xlen(DLQ_STREAM));
  }

  /** One round over every shard; errors of one step are logged and do not stop the others. */
  async function runOnce(): Promise<{ trimmed: number }> {
    let trimmed = 0;
    for (const key of options.keys) {
      try {
        trimmed += await trim(key);
        if (await redis.exists(key)) await removeIdleConsumers(key);
      } catch (error) {
        logger.warn({ err: error, stream: key }, 'stream maintenance failed; will retry');
      }
    }
    try {
      await measure();
    } catch (error) {
      logger.debug({ err: error }, 'stream measurement failed');
    }
    return { trimmed };
  }

  return { runOnce, trim, removeIdleConsumers };
}
export type StreamMaintenance = ReturnType<typeof createStreamMaintenance>;
