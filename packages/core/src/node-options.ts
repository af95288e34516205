/**
 * V8 heap settings each EAP process should run with (as `NODE_OPTIONS`), sized for its real
 * working set; V8's defaults let the heap, and RSS, grow far beyond the live data. Used by the
 * docker-compose stack (checked by a test) and by the benchmark, which measured them
 * (benchmarks/README.md):
 * - api: a small young generation only. Capping its old generation cost about a third of the
 *   end-to-end rate under batch load (garbage collection), so it is left to V8.
 * - worker: a small young generation and a 128 MiB old generation: RSS stays well under 200 MiB
 *   whatever the backlog, at the same drain rate.
 */
export const RECOMMENDED_NODE_OPTIONS = {
  api: '--max-semi-space-size=4',
  worker: '--max-semi-space-size=4 --max-old-space-size=128',
} as const;
