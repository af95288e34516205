import { Redis } from 'ioredis';
import { SHARED_VARS, streamKeys } from '@eap/core';
import { WorkerConfigSchema } from '@eap/worker';

/** The worker's default `TRIM_INTERVAL_MS`, and the shard count the benchmark's processes use (the default). */
const WORKER_TRIM_INTERVAL_MS = WorkerConfigSchema.shape.TRIM_INTERVAL_MS.parse(undefined);
const DEFAULT_SHARDS = SHARED_VARS.STREAM_SHARDS.parse(undefined);

/**
 * Does for a phase that runs the API without a worker what the worker's stream maintenance does
 * in a deployment: every `everyMs` (the worker's default interval) each shard stream is trimmed
 * to the entries appended since the last pass (XTRIM MINID), as if a worker had written them.
 * Without it the streams only grow, by about 13 MB/s at full single-event load, and Redis
 * rewrites its ever larger append-only file again and again in a forked process: CPU that
 * would land on the API's rounds only (the baseline writes nothing), and that a pipeline whose
 * worker keeps up never spends on that scale. `moreKeys`: other streams to trim alike (the bare
 * pipeline's).
 */
export function startStreamTrimmer(redisUrl: string, options: { shards?: number; everyMs?: number; moreKeys?: string[] } = {}) {
  const redis = new Redis(redisUrl);
  const keys = [...streamKeys(options.shards ?? DEFAULT_SHARDS), ...(options.moreKeys ?? [])];
  const everyMs = options.everyMs ?? WORKER_TRIM_INTERVAL_MS;
  let lastPass = Date.now();
  let pass: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    const minId = `${lastPass}-0`;
    lastPass = Date.now();
    pass = Promise.all(keys.map((key) => redis.xtrim(key, 'MINID', minId)));
  }, everyMs);
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      await pass;
      redis.disconnect();
    },
  };
}
