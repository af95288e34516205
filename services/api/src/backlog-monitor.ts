import type { Redis } from 'ioredis';
import { CONSUMER_GROUP, streamKeys } from '@eap/core';
import type { Logger } from '@eap/core';

/**
 * Entries of one shard still to be written: the group's lag (never delivered) plus its pending
 * entries (delivered, not acknowledged). Without a consumer group, or when Redis cannot compute
 * the lag, every entry in the stream counts.
 */
export async function measureShardBacklog(redis: Redis, key: string): Promise<number> {
  const length = await redis.xlen(key);
  if (length === 0) return 0;
  const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
  for (const group of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < group.length; i += 2) info.set(String(group[i]), group[i + 1]);
    if (info.get('name') !== CONSUMER_GROUP) continue;
    const lag = info.get('lag');
    const pending = Number(info.get('pending') ?? 0);
    if (lag === null || lag === undefined) return length;
    return Number(lag) + pending;
  }
  return length;
}

/**
 * Measures the total backlog every `intervalMs` in the background, so ingest checks a number in
 * memory instead of asking Redis on every request.
 */
export function createBacklogMonitor(options: {
  redis: Redis;
  shards: number;
  cap: number;
  intervalMs: number;
  logger: Logger;
  onMeasure?: (backlog: number) => void;
}) {
  const keys = streamKeys(options.shards);
  let backlog = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function measure(): Promise<number> {
    const sizes = await Promise.all(keys.map((key) => measureShardBacklog(options.redis, key)));
    backlog = sizes.reduce((a, b) => a + b, 0);
    options.onMeasure?.(backlog);
    return backlog;
  }

  function tick(): void {
    running = measure()
      .then(() => undefined)
      .catch((error: unknown) => {
        options.logger.debug({ err: error }, 'backlog measurement failed');
      })
      .finally(() => {
        running = undefined;
        if (timer) timer = setTimeout(tick, options.intervalMs).unref();
      });
  }

  function start(): void {
    if (timer) return;
    timer = setTimeout(tick, 0).unref();
  }

  async function stop(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    await running;
  }

  return {
    start,
    stop,
    measure,
    /** Last measured backlog. */
    current: () => backlog,
    /** True when the last measurement reached the cap. */
    isFull: () => backlog >= options.cap,
  };
}
export type BacklogMonitor = ReturnType<typeof createBacklogMonitor>;
