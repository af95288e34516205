/**
 * Semi-space size (MiB) of each process's young generation. A small one keeps RSS close to the
 * live data; the API, which allocates per request and is bound by CPU, gets 8 MiB: at full
 * single-event load that cut its garbage collection by about 40 % and its CPU per request by
 * 10-15 %, for 8-12 MiB more RSS (benchmarks/README.md). The worker, whose memory is bound by the
 * largest events, keeps 4.
 */
export const SEMI_SPACE_MIB = { api: 8, worker: 4 } as const;
export type EapProcess = keyof typeof SEMI_SPACE_MIB;

/**
 * V8 heap settings of an EAP process (as `NODE_OPTIONS`), derived from the memory its container
 * may use, so the heap and the limit never disagree: the old generation gets 60 % of the limit
 * (the rest is the young generation, code, Buffers outside the heap and the runtime).
 * The operator computes them from `resources.limits.memory`; docker-compose.yml sets the same
 * pair (checked by a test). Without a limit the old generation is left to V8.
 */
export function nodeOptionsFor(kind: EapProcess, memoryLimitMiB: number | undefined): string {
  const young = `--max-semi-space-size=${SEMI_SPACE_MIB[kind]}`;
  if (memoryLimitMiB === undefined) return young;
  return `${young} --max-old-space-size=${Math.max(32, Math.floor(memoryLimitMiB * 0.6))}`;
}

/** Memory limits the project ships for each process, in MiB (the EventPipeline defaults). */
export const DEFAULT_MEMORY_LIMIT_MIB = { api: 512, worker: 384 } as const;

/** NODE_OPTIONS for the shipped limits. */
export const RECOMMENDED_NODE_OPTIONS = {
  api: nodeOptionsFor('api', DEFAULT_MEMORY_LIMIT_MIB.api),
  worker: nodeOptionsFor('worker', DEFAULT_MEMORY_LIMIT_MIB.worker),
} as const;
