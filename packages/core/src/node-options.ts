/**
 * V8 heap settings of each EAP process (as `NODE_OPTIONS`), derived from the memory its
 * container may use, so the heap and the limit never disagree: the old generation gets 60 % of
 * the limit (the rest is the young generation, code, Buffers outside the heap and the runtime),
 * and a small young generation keeps RSS close to the live data (benchmarks/README.md).
 * The operator computes them from `resources.limits.memory`; docker-compose.yml sets the same
 * pair (checked by a test). Without a limit the old generation is left to V8.
 */
export function nodeOptionsFor(memoryLimitMiB: number | undefined): string {
  const young = '--max-semi-space-size=4';
  if (memoryLimitMiB === undefined) return young;
  return `${young} --max-old-space-size=${Math.max(32, Math.floor(memoryLimitMiB * 0.6))}`;
}

/** Memory limits the project ships for each process, in MiB (the EventPipeline defaults). */
export const DEFAULT_MEMORY_LIMIT_MIB = { api: 512, worker: 384 } as const;

/** NODE_OPTIONS for the shipped limits. */
export const RECOMMENDED_NODE_OPTIONS = {
  api: nodeOptionsFor(DEFAULT_MEMORY_LIMIT_MIB.api),
  worker: nodeOptionsFor(DEFAULT_MEMORY_LIMIT_MIB.worker),
} as const;
