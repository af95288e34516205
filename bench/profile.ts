// Profiles one EAP process under benchmark load with `node --cpu-prof` and prints where its CPU
// goes; with `gc`, runs the shipped bundle under `--trace-gc-nvp` instead and prints its garbage
// collection per event (bench/support/gc-trace.ts); with `alloc`, samples its allocations
// (bench/support/heap-sampling.ts) and prints the bytes each function allocates per event.
// Usage: node bench/profile.ts api|api-batch|worker|worker-batched [seconds=15] [cpu|gc|alloc]
//   api:       single-event ingest at 64 connections (no worker), the API profiled
//   api-batch: batches of 100 events at 8 connections (no worker), the API profiled
//   worker: a backlog of 200,000 events drained by one worker, the worker profiled
//   worker-batched: the same, appended as requests of 100 events (an entry per request and shard)
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { clientEvents, fillStreams } from './support/bench-data.ts';
import { startBenchStack } from './support/bench-stack.ts';
import { summarizeCpuProfile } from './support/cpuprofile-summary.ts';
import { describeGcTrace, summarizeGcTrace } from './support/gc-trace.ts';
import { summarizeHeapProfile } from './support/heap-profile-summary.ts';
import { runLoad } from './support/http-load.ts';
import { pipelineBacklog } from './support/stream-backlog.ts';

const target = process.argv[2];
const seconds = Number(process.argv[3] ?? 15);
const mode = process.argv[4] ?? 'cpu';
if (
  (target !== 'api' && target !== 'api-batch' && target !== 'worker' && target !== 'worker-batched') ||
  (mode !== 'cpu' && mode !== 'gc' && mode !== 'alloc')
)
  throw new Error('usage: node bench/profile.ts api|api-batch|worker|worker-batched [seconds] [cpu|gc|alloc]');
const profileDir = mode === 'gc' ? '' : mkdtempSync(join(tmpdir(), `eap-${mode}prof-`));
const heapProfile = mode === 'alloc' ? join(profileDir, 'allocations.heapprofile') : '';
/**
 * How the profiled process runs: under V8's profiler (through NODE_OPTIONS, with the shipped heap
 * settings, so the garbage collector's share is the one a deployment sees), or under the GC trace,
 * which V8 takes only on node's command line.
 */
function profiled(kind: 'api' | 'worker'): { env: Record<string, string>; nodeFlags: string[] } {
  if (mode === 'gc') return { env: {}, nodeFlags: ['--trace-gc-nvp'] };
  if (mode === 'alloc') {
    const sampler = fileURLToPath(new URL('./support/heap-sampling.ts', import.meta.url));
    return {
      env: { NODE_OPTIONS: `${RECOMMENDED_NODE_OPTIONS[kind]} --import=${sampler}`, EAP_HEAP_PROFILE_FILE: heapProfile },
      nodeFlags: [],
    };
  }
  return { env: { NODE_OPTIONS: `${RECOMMENDED_NODE_OPTIONS[kind]} --cpu-prof --cpu-prof-dir=${profileDir}` }, nodeFlags: [] };
}
// For CPU and allocations, the TypeScript sources, not the bundle: the profile then names the
// package or source file of each function (the bundle is one file). Both run the same code. For
// garbage collection, the bundle as shipped: type stripping has a heap of its own.
const stack = await startBenchStack({ eap: mode === 'gc' ? 'bundle' : 'sources' });
/** Prints what the profiled process allocated, by function, per event (its start-up included). */
function printAllocations(events: number): void {
  for (const line of summarizeHeapProfile(heapProfile, events, 'event')) console.log(line);
}
/** Prints the trace `output` wrote from `from` on, per event. */
function printGcTrace(output: string, from: number, events: number): void {
  for (const line of describeGcTrace(summarizeGcTrace(output.slice(from)), events)) console.log(line);
}
try {
  const project = await stack.createProject('profile');
  const redis = new Redis(stack.redisUrl);
  if (target === 'api' || target === 'api-batch') {
    const { env, nodeFlags } = profiled('api');
    const api = await stack.spawnApi(env, undefined, nodeFlags);
    const events = clientEvents(10_000);
    const batch = target === 'api-batch';
    const bodies = batch
      ? Array.from({ length: 100 }, (_, i) => JSON.stringify({ events: events.slice(i * 100, i * 100 + 100) }))
      : events.map((e) => JSON.stringify(e));
    const traceFrom = api.output().length;
    const r = await runLoad({
      url: api.url,
      path: batch ? '/v1/batch' : '/v1/events',
      connections: batch ? 8 : 64,
      durationS: seconds,
      bodies,
      headers: { authorization: `Bearer ${project.write_key}` },
    });
    console.log(`api: ${r.reqPerSec} req/s, p99 ${r.latencyP99Ms} ms`);
    if (mode === 'gc') printGcTrace(api.output(), traceFrom, r.requests * (batch ? 100 : 1));
    await api.stop();
    if (mode === 'alloc') printAllocations(r.requests * (batch ? 100 : 1));
  } else {
    await fillStreams(redis, 200_000, project.project_id, undefined, { perRequest: target === 'worker-batched' ? 100 : 1 });
    const { env, nodeFlags } = profiled('worker');
    const worker = await stack.spawnWorker(env, undefined, nodeFlags);
    const traceFrom = worker.output().length;
    const started = Date.now();
    while ((await pipelineBacklog(redis)) > 0 && Date.now() - started < seconds * 1000) await new Promise((r) => setTimeout(r, 200));
    const elapsed = (Date.now() - started) / 1000;
    const stored = new pg.Client({ connectionString: stack.databaseUrl });
    await stored.connect();
    const { rows } = await stored.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    await stored.end();
    console.log(`worker: ${Math.round(rows[0]!.n / elapsed)} events/s`);
    if (mode === 'gc') printGcTrace(worker.output(), traceFrom, rows[0]!.n);
    await worker.stop();
    if (mode === 'alloc') printAllocations(rows[0]!.n);
  }
  redis.disconnect();
  if (mode === 'cpu') {
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile written');
    console.log(`profile: ${join(profileDir, file)}`);
    console.log('by function (all samples):');
    for (const line of summarizeCpuProfile(join(profileDir, file))) console.log(line);
    console.log('by package or source file (busy samples):');
    for (const line of summarizeCpuProfile(join(profileDir, file), 16, 'place')) console.log(line);
  }
} finally {
  await stack.stop();
}
