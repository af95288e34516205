import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, compareStreamIds, DLQ_STREAM, nextStreamId, parseStreamGroups, type StreamGroupInfo } from '@eap/core';
import type { Logger } from '@eap/core';
import type { DlqTool } from './dlq-replay.ts';
import type { WorkerMetrics } from './metrics.ts';

/**
 * The oldest entry id of a stream that some consumer group still needs: its smallest pending id
 * (delivered, not acknowledged), or the entry after its last delivered id (not delivered yet).
 * Undefined when the stream has no group: then nothing may be trimmed.
 */
export async function oldestNeededId(redis: Redis, key: string, groups: StreamGroupInfo[]): Promise<string | undefined> {
  let oldest: string | undefined;
  for (const group of groups) {
    let candidate = nextStreamId(group.lastDeliveredId);
    if (group.pending > 0) {
      const summary = (await redis.xpending(key, group.name)) as [number, string | null, string | null, unknown];
      candidate = summary[1] ?? candidate;
    }
    if (oldest === undefined || compareStreamIds(candidate, oldest) < 0) oldest = candidate;
  }
  return oldest;
}

/**
 * Periodic housekeeping of the shard streams: trims each one to the oldest entry any consumer
 * group still needs (XTRIM MINID: never an undelivered or pending entry), removes consumers that
 * have been idle with nothing pending for a long time, measures lag, pending and DLQ size, and
 * puts back in their streams the dead letters an older worker refused for their entry version
 * (each letter looked at once per process).
 */
export function createStreamMaintenance(options: {
  redis: Redis;
  keys: string[];
  consumer: string;
  consumerIdleDeleteMs: number;
  letters: Pick<DlqTool, 'recoverUnreadVersions'>;
  metrics: WorkerMetrics;
  logger: Logger;
}) {
  const { redis, metrics, logger } = options;
  /** The last dead letter looked at for recovery. */
  let letterCursor: string | undefined;

  async function removeIdleConsumers(key: string): Promise<string[]> {
    const consumers = ((await redis.xinfo('CONSUMERS', key, CONSUMER_GROUP)) as unknown[][]).map((flat) => {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
      return info;
    });
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

  /**
   * One shard: reads its groups once, records lag and pending, trims below what every group
   * still needs, and removes idle consumers of the writers' group.
   */
  async function maintainShard(shard: number, key: string): Promise<number> {
    if (!(await redis.exists(key))) return 0;
    const groups = parseStreamGroups(await redis.xinfo('GROUPS', key));
    const writers = groups.find((g) => g.name === CONSUMER_GROUP);
    if (writers) {
      metrics.streamBacklog.set({ shard: String(shard) }, writers.lag ?? (await redis.xlen(key)));
      metrics.streamPending.set({ shard: String(shard) }, writers.pending);
    }
    const minId = await oldestNeededId(redis, key, groups);
    const trimmed = minId === undefined ? 0 : Number(await redis.xtrim(key, 'MINID', minId));
    metrics.entriesTrimmed.inc(trimmed);
    if (writers) await removeIdleConsumers(key);
    return trimmed;
  }

  /** One round over every shard; a failing shard is logged and does not stop the others. */
  async function runOnce(): Promise<{ trimmed: number; recovered: number }> {
    let trimmed = 0;
    for (const [shard, key] of options.keys.entries()) {
      try {
        trimmed += await maintainShard(shard, key);
      } catch (error) {
        logger.warn({ err: error, stream: key }, 'stream maintenance failed; will retry');
      }
    }
    let recovered = 0;
    try {
      const pass = await options.letters.recoverUnreadVersions(letterCursor);
      letterCursor = pass.last;
      recovered = pass.recovered;
      if (recovered > 0) {
        metrics.lettersRecovered.inc(recovered);
        logger.info({ recovered }, 'replayed dead letters that an older worker could not read');
      }
    } catch (error) {
      logger.warn({ err: error }, 'recovering dead letters of a newer entry version failed; will retry');
    }
    try {
      metrics.dlqLength.set(await redis.xlen(DLQ_STREAM));
    } catch (error) {
      logger.debug({ err: error }, 'DLQ measurement failed');
    }
    return { trimmed, recovered };
  }

  return { runOnce };
}
export type StreamMaintenance = ReturnType<typeof createStreamMaintenance>;
