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

/**
 * Node flags every EAP process gets on its `node` command line, because `NODE_OPTIONS` may not
 * carry them: the young generation starts at the largest semi-space of any process instead of
 * 1 MiB, and V8 clamps it to each process's `--max-semi-space-size`, so each runs with its young
 * generation fixed at its maximum. Left to grow and shrink, the API's young generation often stayed
 * small under load: most single-event runs then cost 74-80 µs of CPU per request instead of about
 * 40 (benchmarks/profiles.md, "Why single-event runs land in two modes"). The image's entry point
 * (nodeLauncherScript) and `spawnEap` pass them, through nodeCommandFlags; tests check both.
 */
export const NODE_COMMAND_FLAGS: readonly string[] = [`--min-semi-space-size=${Math.max(...Object.values(SEMI_SPACE_MIB))}`];

/**
 * Size (MiB) the worker's old generation may reach before V8 starts a major garbage collection.
 * The worker's batches live until their commit, so they are promoted, and with its heap V8 started
 * the next major collection about 8 MB after the last: 27-28 of them per 200,000 events, and 37 %
 * of the worker's CPU in garbage collection. With this floor the worker spent 2.2-4.4 ms less CPU
 * per 1,000 events end to end, for 10-20 MiB more RSS (about 7 with the largest events); 64 MiB
 * took it over its 150 MiB budget with the largest events (benchmarks/profiles.md, "Thirteenth
 * round"). The API gained nothing from it. V8 reads it only at start, and only from the command
 * line.
 */
export const WORKER_OLD_SPACE_FLOOR_MIB = 48;

/** The flags `node` gets on its command line for `eap <command>`: NODE_COMMAND_FLAGS, and the worker's floor. */
export function nodeCommandFlags(command: string | undefined): readonly string[] {
  return command === 'worker' ? [...NODE_COMMAND_FLAGS, `--initial-old-space-size=${WORKER_OLD_SPACE_FLOOR_MIB}`] : NODE_COMMAND_FLAGS;
}

/**
 * The image's entry point: a POSIX shell script, put next to the bundle's `eap.js`, that starts
 * `node <nodeCommandFlags of its first argument> eap.js "$@"` in place of the shell (so tini
 * signals node itself). One script for every command, so Kubernetes, Helm and compose keep
 * passing the command alone.
 */
export function nodeLauncherScript(): string {
  const start = (command: string | undefined) => `exec node ${nodeCommandFlags(command).join(' ')} "$(dirname "$0")/eap.js" "$@"`;
  return [
    '#!/bin/sh',
    '# Written by scripts/build-bundle.ts from nodeLauncherScript (packages/core/src/node-options.ts).',
    `if [ "$1" = worker ]; then ${start('worker')}; fi`,
    start(undefined),
    '',
  ].join('\n');
}

/**
 * Environment of every EAP process for the C library under Node: at most two malloc arenas.
 * glibc gives each thread that allocates (the libuv pool, V8's garbage-collection and compiler
 * threads) an arena of its own, up to eight per core, and memory freed in one is not returned
 * while the others grow. With two, the API's RSS peak at full load fell by 5-13 MiB with the
 * same CPU per request (benchmarks/profiles.md, "Tenth change"). The image sets it (Dockerfile,
 * checked by a test), so compose and Kubernetes get it; `spawnEap` gives it to tests and
 * benchmarks.
 */
export const NATIVE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Memory limits the project ships for each process, in MiB (the EventPipeline defaults). */
export const DEFAULT_MEMORY_LIMIT_MIB = { api: 512, worker: 384 } as const;

/** NODE_OPTIONS for the shipped limits. */
export const RECOMMENDED_NODE_OPTIONS = {
  api: nodeOptionsFor('api', DEFAULT_MEMORY_LIMIT_MIB.api),
  worker: nodeOptionsFor('worker', DEFAULT_MEMORY_LIMIT_MIB.worker),
} as const;
