import type { Redis } from 'ioredis';
import { EapError, PROJECT_BACKLOG_KEY, parseStreamGroups, shardBacklog, streamKeys } from '@eap/core';
import type { Logger } from '@eap/core';

/** Backlog of one shard (see `shardBacklog`): one XLEN, plus XINFO GROUPS when it is not empty. */
export async function measureShardBacklog(redis: Redis, key: string): Promise<number> {
  const length = await redis.xlen(key);
  if (length === 0) return 0;
  return shardBacklog(parseStreamGroups(await redis.xinfo('GROUPS', key)), length);
}

/** `used_memory` and `maxmemory` (0: no limit) from `INFO memory`, in bytes. */
export function parseRedisMemory(info: string): { used: number; max: number } {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { used: field('used_memory'), max: field('maxmemory') };
}

/** The limits ingest is held to; the API's STREAM_BACKLOG_* settings. */
export interface BacklogLimits {
  /** Entries (undelivered + pending) across all shards. */
  maxEntries: number;
  /** Share of `maxEntries` one project may hold, in percent. */
  projectPercent: number;
  /** Redis memory in bytes; undefined: `memoryPercentOfMax` of Redis' maxmemory, when it has one. */
  maxBytes: number | undefined;
  memoryPercentOfMax: number;
}

/** Why ingest is refused right now, if it is. */
export type BacklogRefusal = { reason: 'backlog_full' | 'memory_full' | 'project_backlog_full'; error: EapError };

/**
 * Measures the backlog every `intervalMs` in the background — entries across the shards, Redis
 * memory, and each project's entries not yet acknowledged (PROJECT_BACKLOG_KEY) — so ingest
 * checks numbers in memory instead of asking Redis on every request.
 */
export function createBacklogMonitor(options: {
  redis: Redis;
  shards: number;
  limits: BacklogLimits;
  intervalMs: number;
  logger: Logger;
  onMeasure?: (backlog: number) => void;
}) {
  const { limits } = options;
  const keys = streamKeys(options.shards);
  const projectCap = Math.max(1, Math.floor((limits.maxEntries * limits.projectPercent) / 100));
  let backlog = 0;
  let memory = { used: 0, max: 0 };
  let projects = new Map<string, number>();
  let warnedNoMaxmemory = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  function memoryLimit(): number | undefined {
    if (limits.maxBytes !== undefined) return limits.maxBytes;
    return memory.max > 0 ? Math.floor((memory.max * limits.memoryPercentOfMax) / 100) : undefined;
  }

  async function measure(): Promise<number> {
    const [sizes, info, perProject] = await Promise.all([
      Promise.all(keys.map((key) => measureShardBacklog(options.redis, key))),
      options.redis.info('memory'),
      options.redis.hgetall(PROJECT_BACKLOG_KEY),
    ]);
    backlog = sizes.reduce((a, b) => a + b, 0);
    memory = parseRedisMemory(info);
    projects = new Map(Object.entries(perProject).map(([project, n]) => [project, Number(n)]));
    if (memory.max === 0 && limits.maxBytes === undefined && !warnedNoMaxmemory) {
      warnedNoMaxmemory = true;
      options.logger.warn(
        'Redis has no maxmemory and STREAM_BACKLOG_MAX_BYTES is unset: the backlog is bounded by entries only; set maxmemory (noeviction)',
      );
    }
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

  /** Why a request of this project must be refused now (as last measured), if it must. */
  function refusal(projectId: string): BacklogRefusal | undefined {
    if (backlog >= limits.maxEntries) {
      return {
        reason: 'backlog_full',
        error: new EapError('BACKLOG_FULL', 'the pipeline backlog is full; nothing was accepted, retry later', {
          retryAfterSeconds: 5,
          details: { limit: 'STREAM_BACKLOG_CAP', backlog, cap: limits.maxEntries },
        }),
      };
    }
    const bytes = memoryLimit();
    if (bytes !== undefined && memory.used >= bytes) {
      return {
        reason: 'memory_full',
        error: new EapError('BACKLOG_FULL', 'the pipeline backlog has reached its memory limit; nothing was accepted, retry later', {
          retryAfterSeconds: 5,
          details: {
            limit: limits.maxBytes === undefined ? 'Redis maxmemory' : 'STREAM_BACKLOG_MAX_BYTES',
            used_bytes: memory.used,
            cap_bytes: bytes,
          },
        }),
      };
    }
    // A count left high by a failed append cannot exceed what is really waiting.
    const own = Math.min(projects.get(projectId) ?? 0, backlog);
    if (own >= projectCap) {
      return {
        reason: 'project_backlog_full',
        error: new EapError(
          'PROJECT_BACKLOG_FULL',
          "this project's events waiting to be stored reached its share of the backlog; nothing was accepted, retry later (other projects are not affected)",
          { retryAfterSeconds: 5, details: { limit: 'STREAM_BACKLOG_PROJECT_PERCENT', backlog: own, cap: projectCap } },
        ),
      };
    }
    return undefined;
  }

  return {
    start,
    stop,
    measure,
    refusal,
    /** Last measured backlog, in entries. */
    current: () => backlog,
  };
}
export type BacklogMonitor = ReturnType<typeof createBacklogMonitor>;
