// Memory and CPU of `eap` run from its TypeScript sources (type stripping) against the bundled
// JavaScript the image runs (scripts/build-bundle.ts), alternating the two in one run on one
// Redis and PostgreSQL, with the recommended NODE_OPTIONS. Prints each round and the medians as
// JSON; benchmarks/memory.md reports them.
//
//   node bench/bundle-memory.ts [--rounds 3] [--seconds 15] [--backlog 200000]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { batchBodies as makeBatchBodies, fillStreams, ingestBodies } from './support/bench-data.ts';
import { type BenchProcess, type EapBuild, startBenchStack } from './support/bench-stack.ts';
import { cpuPer, cpuSnapshot, processCpuSeconds } from './support/cpu-accounting.ts';
import { runLoad } from './support/http-load.ts';
import { createPeakSampler, rssMiB } from './support/process-sampler.ts';
import { createProgress } from './support/progress.ts';
import { median } from './support/statistics.ts';
import { pipelineBacklog } from './support/stream-backlog.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    backlog: { type: 'string', default: '200000' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const backlogEntries = Number(values.backlog);
const SETTLE_MS = 3000;
const BATCH = 100;

const progress = createProgress();
const stack = await startBenchStack();
const redis = new Redis(stack.redisUrl);
const project = await stack.createProject('bundle-memory');
const headers = { authorization: `Bearer ${project.write_key}` };
const singleBodies = ingestBodies();
const batchBodies = makeBatchBodies(200, BATCH);

const round2 = (v: number) => Math.round(v * 10) / 10;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function drained(what: string): Promise<void> {
  for (let left = await pipelineBacklog(redis); left > 0; left = await pipelineBacklog(redis)) {
    progress.update(`${what}: ${left} entries left`);
    await pause(200);
  }
}

/** Peak RSS of `processes` while `work` runs. */
async function peakRss<T>(processes: BenchProcess[], work: () => Promise<T>): Promise<{ result: T; peaks: number[] }> {
  const samplers = processes.map((p) => createPeakSampler(() => rssMiB(p.child.pid), 100));
  try {
    const result = await work();
    return { result, peaks: samplers.map((s) => round2(s.peak())) };
  } finally {
    for (const s of samplers) s.stop();
  }
}

/** One build measured: idle, single-event ingest, a backlog drained, then end to end. */
async function measure(build: EapBuild) {
  const api = await stack.spawnApi({}, build);
  const worker = await stack.spawnWorker({}, build);
  try {
    const pid = (p: BenchProcess) => p.child.pid ?? 0;
    const startCpu = { api: processCpuSeconds(pid(api)), worker: processCpuSeconds(pid(worker)) };
    await pause(SETTLE_MS);
    const idle = { api: round2(rssMiB(pid(api))), worker: round2(rssMiB(pid(worker))) };
    await worker.stop();

    const cpu0 = cpuSnapshot({ api: () => [pid(api)] });
    const ingest = await peakRss([api], () =>
      runLoad({ url: api.url, path: '/v1/events', connections: 64, durationS: seconds, bodies: singleBodies, headers }),
    );
    const ingestCpu = cpuPer(cpu0, cpuSnapshot({ api: () => [pid(api)] }), ingest.result.requests);

    // The entries the ingest left, topped up to the same backlog for both builds.
    await fillStreams(redis, Math.max(0, backlogEntries - (await pipelineBacklog(redis))), project.project_id);
    const backlog = await pipelineBacklog(redis);
    const drainer = await stack.spawnWorker({}, build);
    const cpu1 = cpuSnapshot({ worker: () => [pid(drainer)] });
    const drain = await peakRss([drainer], () => drained(`${build}: draining`));
    const drainCpu = cpuPer(cpu1, cpuSnapshot({ worker: () => [pid(drainer)] }), backlog);

    const e2e = await peakRss([api, drainer], async () => {
      const load = await runLoad({ url: api.url, path: '/v1/batch', connections: 8, durationS: seconds, bodies: batchBodies, headers });
      await drained(`${build}: end to end`);
      return load;
    });
    await drainer.stop();
    return {
      build,
      startup_cpu_s: { api: round2(startCpu.api), worker: round2(startCpu.worker) },
      idle_rss_mib: idle,
      ingest: {
        req_per_s: ingest.result.reqPerSec,
        non_2xx: ingest.result.non2xx,
        api_rss_peak_mib: ingest.peaks[0]!,
        api_cpu_ms_per_1000_requests: ingestCpu.api!,
      },
      drain: { entries: backlog, worker_rss_peak_mib: drain.peaks[0]!, worker_cpu_ms_per_1000_events: drainCpu.worker! },
      e2e: {
        events: (e2e.result.requests - e2e.result.non2xx) * BATCH,
        api_rss_peak_mib: e2e.peaks[0]!,
        worker_rss_peak_mib: e2e.peaks[1]!,
      },
    };
  } finally {
    await Promise.all([api.stop(), worker.stop()]);
  }
}

type Run = Awaited<ReturnType<typeof measure>>;
const runs: Run[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    // ABBA: each build goes first as often as the other.
    const order: EapBuild[] = round % 2 === 1 ? ['sources', 'bundle'] : ['bundle', 'sources'];
    for (const build of order) {
      const run = await measure(build);
      runs.push(run);
      progress.done(`round ${round} ${JSON.stringify(run)}`);
    }
  }
} finally {
  redis.disconnect();
  await stack.stop();
}

/** Median of every numeric leaf over the runs of one build. */
function medians(of: Run[]): unknown {
  const walk = (pick: (r: Run) => unknown): unknown => {
    const sample = pick(of[0]!);
    if (typeof sample === 'number') return median(of.map((r) => pick(r) as number));
    if (typeof sample !== 'object' || sample === null) return sample;
    return Object.fromEntries(Object.keys(sample).map((k) => [k, walk((r) => (pick(r) as Record<string, unknown>)[k])]));
  };
  return walk((r) => r);
}
console.log(
  JSON.stringify(
    {
      rounds,
      seconds,
      node_options: 'RECOMMENDED_NODE_OPTIONS',
      sources: medians(runs.filter((r) => r.build === 'sources')),
      bundle: medians(runs.filter((r) => r.build === 'bundle')),
      runs,
    },
    null,
    2,
  ),
);
