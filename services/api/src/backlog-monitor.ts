import type { Redis } from 'ioredis';
import { parseStreamGroups, shardBacklog, streamKeys } from '@eap/core';
import type { Logger } from '@eap/core';

/** Backlog of one shard (see `shardBacklog`): one XLEN, plus XINFO GROUPS when it is not empty. */
export async function measureShardBacklog(redis: Redis, key: string): Promise<number> {
  const length = await redis.xlen(key);
  if (length === 0) return 0;
  return shardBacklog(parseStreamGroups(await redis.xinfo('GROUPS', key)), length);
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
