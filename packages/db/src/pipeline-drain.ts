import { CONSUMER_GROUP, compareStreamIds, parseStreamGroups, shardFor, streamKey } from '@eap/core';

/** The one Redis command this module sends; an ioredis client is one. */
export interface RedisCaller {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** Whether the stream entries that existed when a deletion started have all been written. */
export interface PipelineDrain {
  /** True when every entry appended before the deletion started was delivered and acknowledged. */
  drained: boolean;
  /** Shards checked: the shards of the person's distinct ids, or every shard for a project. */
  shards: number[];
  /** How long the deletion waited for the writers, in ms. */
  waited_ms: number;
  /** Why it is not drained (timeout, no consumer group, Redis unreachable); absent when drained. */
  reason?: string;
}

/** What a deletion waits for: one project's entries, or only those of some distinct ids. */
export interface DrainScope {
  projectId: string;
  /** Distinct ids whose shards to check; absent means every shard (a whole project). */
  distinctIds?: string[];
}

export interface PipelineDrainOptions {
  /** STREAM_SHARDS of the deployment. */
  shards: number;
  /** Longest wait for the writers; the receipt then says `drained: false`. */
  timeoutMs: number;
  /** Pause between two checks. Default 100 ms. */
  pollMs?: number;
}

function flatToMap(flat: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  const list = flat as unknown[];
  for (let i = 0; i + 1 < list.length; i += 2) map.set(String(list[i]), list[i + 1]);
  return map;
}

/**
 * Waits, bounded, until the writers' consumer group has delivered and acknowledged every entry
 * that was in the checked shards when the wait began, so events accepted before a deletion are in
 * PostgreSQL (and deleted with the rest) instead of being written afterwards and bringing the
 * person back. Per shard: the stream's last-generated-id at the start is the mark; the shard is
 * drained once the group's last-delivered-id reaches the mark and no pending entry is at or
 * before it (XINFO STREAM, XINFO GROUPS, XPENDING). An empty or missing stream is drained.
 * Never throws for Redis failures: they make the answer `drained: false` with the reason.
 */
export function createPipelineDrain(redis: RedisCaller, options: PipelineDrainOptions) {
  const pollMs = options.pollMs ?? 100;

  async function markOf(key: string): Promise<string | null> {
    const length = Number(await redis.call('XLEN', key));
    if (length === 0) return null;
    return String(flatToMap(await redis.call('XINFO', 'STREAM', key)).get('last-generated-id'));
  }

  /** Undefined when the shard is drained up to `mark`, else why not. */
  async function stillInFlight(key: string, mark: string): Promise<string | undefined> {
    const writers = parseStreamGroups(await redis.call('XINFO', 'GROUPS', key)).find((g) => g.name === CONSUMER_GROUP);
    if (!writers) return `no consumer group ${CONSUMER_GROUP} on ${key}: no worker has read it`;
    if (compareStreamIds(writers.lastDeliveredId, mark) < 0) return `entries of ${key} not yet delivered to the writers`;
    if (writers.pending === 0) return undefined;
    const summary = (await redis.call('XPENDING', key, CONSUMER_GROUP)) as [number, string | null, ...unknown[]];
    const oldest = summary[1];
    if (oldest !== null && oldest !== undefined && compareStreamIds(String(oldest), mark) <= 0) {
      return `entries of ${key} delivered but not yet acknowledged by the writers`;
    }
    return undefined;
  }

  return async function waitForPipelineDrain(scope: DrainScope): Promise<PipelineDrain> {
    const started = Date.now();
    const shards = scope.distinctIds
      ? [...new Set(scope.distinctIds.map((id) => shardFor(scope.projectId, id, options.shards)))].sort((a, b) => a - b)
      : Array.from({ length: options.shards }, (_, i) => i);
    const result = (drained: boolean, reason?: string): PipelineDrain => ({
      drained,
      shards,
      waited_ms: Date.now() - started,
      ...(reason === undefined ? {} : { reason }),
    });
    try {
      const marks = new Map<string, string>();
      for (const shard of shards) {
        const mark = await markOf(streamKey(shard));
        if (mark !== null) marks.set(streamKey(shard), mark);
      }
      let reason: string | undefined;
      for (;;) {
        reason = undefined;
        for (const [key, mark] of marks) {
          reason = await stillInFlight(key, mark);
          if (reason === undefined) marks.delete(key);
          else break;
        }
        if (marks.size === 0) return result(true);
        if (Date.now() - started + pollMs > options.timeoutMs) return result(false, `gave up after ${options.timeoutMs} ms: ${reason}`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    } catch (error) {
      return result(false, `Redis: ${(error as Error).message}`);
    }
  };
}
export type WaitForPipelineDrain = ReturnType<typeof createPipelineDrain>;
