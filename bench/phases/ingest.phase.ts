import { BARE_STREAM } from '../bare-pipeline/bare-stream.ts';
import { ingestBodies } from '../support/bench-data.ts';
import type { BenchProcess, BenchStack } from '../support/bench-stack.ts';
import { cpuPer, cpuSnapshot, processTree, stealSince } from '../support/cpu-accounting.ts';
import { type LoadResult, runLoad } from '../support/http-load.ts';
import { createPeakSampler, rssMiB } from '../support/process-sampler.ts';
import type { Progress } from '../support/progress.ts';
import { median } from '../support/statistics.ts';
import { startStreamTrimmer } from '../support/stream-trimmer.ts';

const CONNECTIONS = 64;

/**
 * Baseline A and EAP single-event ingest, driven by the same generator with the same bodies and
 * headers: a bare fastify server answering 202, then the least durable ingest (the bare
 * pipeline's ingest server: each event's row appended to a Redis stream before the 202, and
 * nothing else), then `eap api` (no worker running, so the API has the machine to itself as the
 * baselines did), alternating for `rounds` rounds so all see the same machine; the medians are
 * compared. The least durable ingest is the floor under EAP's rate that the append before the 202
 * sets on this machine. Every server process is measured warm: after it starts, it first gets
 * `warmUpS` of the same load, unmeasured (the fastify and bare servers each round, as each round
 * starts them; the EAP API once, as it serves every round). Then EAP again at half its measured
 * rate, for the latency of an API that is not saturated. While the servers run, the streams they
 * append to are trimmed every 10 s as the worker's maintenance would (`startStreamTrimmer`).
 */
export async function ingestPhase(
  stack: BenchStack,
  options: {
    durationS: number;
    halfRateDurationS: number;
    rounds: number;
    /** Unmeasured load before a server process's first measured run, so its JIT has settled. */
    warmUpS: number;
    writeKey: string;
    /** The project the least durable ingest writes its rows for. */
    projectId: string;
    progress: Progress;
  },
) {
  const bodies = ingestBodies();
  const headers = { authorization: `Bearer ${options.writeKey}` };

  async function warmUp(server: BenchProcess, label: string): Promise<void> {
    if (options.warmUpS <= 0) return;
    await runLoad({
      url: server.url,
      path: '/v1/events',
      connections: CONNECTIONS,
      durationS: options.warmUpS,
      bodies,
      headers,
      onTick: (n) => options.progress.update(`${label}: warming up, ${n} requests`),
    });
  }

  async function measure(server: BenchProcess, label: string, cpuOf: Record<string, () => number[]>) {
    const before = cpuSnapshot(cpuOf);
    const stolen = stealSince();
    const result = await runLoad({
      url: server.url,
      path: '/v1/events',
      connections: CONNECTIONS,
      durationS: options.durationS,
      bodies,
      headers,
      onTick: (n) => options.progress.update(`${label}: ${n} requests`),
    });
    const cpu = cpuPer(before, cpuSnapshot(cpuOf), result.requests);
    const steal = stolen();
    options.progress.done(
      `${label}: ${result.reqPerSec} req/s, p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms, ${result.non2xx} non-2xx, ${steal} % stolen`,
    );
    return { result, cpu, steal };
  }

  type Run = { result: LoadResult; cpu: Record<string, number>; steal: number };

  /** What latest.json records of one server's rounds: every round's rate and stolen time, the rest of the median round. */
  function summarize(runs: Run[]) {
    const rate = median(runs.map((r) => r.result.reqPerSec));
    const middle = runs.find((r) => r.result.reqPerSec === rate)!;
    return {
      connections: CONNECTIONS,
      duration_s: options.durationS,
      warm_up_s: options.warmUpS,
      rounds_req_per_s: runs.map((r) => r.result.reqPerSec),
      rounds_steal_percent: runs.map((r) => r.steal),
      req_per_s: rate,
      p50_ms: middle.result.latencyP50Ms,
      p99_ms: middle.result.latencyP99Ms,
      non_2xx: runs.reduce((n, r) => n + r.result.non2xx, 0),
      cpu_ms_per_1000_requests: middle.cpu,
    };
  }
  const fastifyRuns: Run[] = [];
  const bareRuns: Run[] = [];
  const eapRuns: Run[] = [];
  const api = await stack.spawnApi();
  const rss = createPeakSampler(() => rssMiB(api.child.pid));
  const trimmer = startStreamTrimmer(stack.redisUrl, { moreKeys: [BARE_STREAM] });
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const baseline = await stack.spawnBaseline();
      await warmUp(baseline, `round ${round}: baseline A (bare fastify)`);
      fastifyRuns.push(
        await measure(baseline, `round ${round}: baseline A (bare fastify)`, {
          server: () => [baseline.child.pid ?? 0],
          load_generator: () => [process.pid],
        }),
      );
      await baseline.stop();
      const bare = await stack.spawnBareIngest(options.projectId);
      await warmUp(bare, `round ${round}: least durable ingest`);
      bareRuns.push(
        await measure(bare, `round ${round}: least durable ingest`, {
          server: () => [bare.child.pid ?? 0],
          redis: () => processTree(stack.redisProcessMatch),
          load_generator: () => [process.pid],
        }),
      );
      await bare.stop();
      if (round === 1) await warmUp(api, `round ${round}: EAP single-event ingest`);
      eapRuns.push(
        await measure(api, `round ${round}: EAP single-event ingest`, {
          server: () => [api.child.pid ?? 0],
          redis: () => processTree(stack.redisProcessMatch),
          load_generator: () => [process.pid],
        }),
      );
    }
    const fastify = summarize(fastifyRuns);
    const bare = summarize(bareRuns);
    const eap = summarize(eapRuns);
    const halfRate = Math.max(1, Math.round(eap.req_per_s / 2));
    const half = await runLoad({
      url: api.url,
      path: '/v1/events',
      connections: CONNECTIONS,
      durationS: options.halfRateDurationS,
      bodies,
      headers,
      overallRate: halfRate,
      onTick: (n) => options.progress.update(`EAP single-event ingest at ${halfRate} req/s: ${n} requests`),
    });
    options.progress.done(`EAP single-event ingest at 50 % (${halfRate} req/s): p50 ${half.latencyP50Ms} ms, p99 ${half.latencyP99Ms} ms`);
    return {
      baseline_fastify: fastify,
      bare_durable_ingest: bare,
      ingest_single: {
        ...eap,
        errors: eapRuns.reduce((n, r) => n + r.result.errors, 0),
        half_rate_req_per_s: halfRate,
        half_rate_p50_ms: half.latencyP50Ms,
        half_rate_p99_ms: half.latencyP99Ms,
        api_rss_peak_mib: Math.round(rss.peak()),
      },
    };
  } finally {
    rss.stop();
    await trimmer.stop();
    await api.stop();
  }
}
