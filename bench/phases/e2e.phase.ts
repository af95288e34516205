import { Redis } from 'ioredis';
import pg from 'pg';
import { batchBodies, singleEventBodies } from '../support/bench-data.ts';
import { runPacedLoad } from '../support/paced-load.ts';
import type { BenchStack } from '../support/bench-stack.ts';
import { diffHistogram, histogramQuantile, parseHistogram } from '../support/histogram.ts';
import { runLoad } from '../support/http-load.ts';
import { createPeakSampler, rssMiB } from '../support/process-sampler.ts';
import type { Progress } from '../support/progress.ts';
import { addCpuBetween, cpuPer, cpuSnapshot, processTree, stealSince } from '../support/cpu-accounting.ts';
import { pipelineBacklog } from '../support/stream-backlog.ts';
import { median } from '../support/statistics.ts';
import { projectRows, waitForCommitted } from '../support/pipeline-drain.ts';

/** Events per request and connections: batches of 100 as server-side senders post them, or single events as browser and mobile SDKs do. */
const LOADS = {
  batch: { events: 100, connections: 8, path: '/v1/batch' },
  single: { events: 1, connections: 64, path: '/v1/events' },
} as const;
/** The shards `eap api` and `eap worker` use by default (STREAM_SHARDS). */
const SHARDS = 4;
const E2E_HISTOGRAM = 'eap_worker_end_to_end_latency_seconds';

async function e2eHistogram(adminUrl: string) {
  return parseHistogram(await (await fetch(`${adminUrl}/metrics`)).text(), E2E_HISTOGRAM);
}

/**
 * EAP end to end: batches of 100 events (or single events, `load: 'single'`) posted to `eap api`,
 * written by `eap worker`, counted in PostgreSQL. The API and the worker first get `warmUpS` of the
 * same load, unmeasured (their JIT settles over tens of seconds: benchmarks/profiles.md,
 * "Twenty-third round"). Then `rounds` rounds of `durationS` (default 1), each after
 * `beforeRound` (`make bench` runs a round of the raw COPY there, so that both see the same
 * machine). A round's rate is the events it committed divided by the time from its first request
 * to its last commit (so a backlog left at its end counts against it); the phase's rate is the
 * rounds' median, its CPU per event that of all rounds together. Then, unless `halfRateDurationS`
 * is 0, half that rate, the requests evenly spaced as steady traffic arrives, for the end-to-end
 * latency of a pipeline that is not saturated.
 */
export async function e2ePhase(
  stack: BenchStack,
  options: {
    durationS: number;
    rounds?: number;
    warmUpS?: number;
    beforeRound?: () => Promise<void>;
    halfRateDurationS: number;
    projectId: string;
    writeKey: string;
    progress: Progress;
    load?: keyof typeof LOADS;
  },
) {
  const { events: perRequest, connections, path } = LOADS[options.load ?? 'batch'];
  const label = perRequest === 1 ? 'EAP end to end, single events' : 'EAP end to end';
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  const redis = new Redis(stack.redisUrl);
  const bodies = perRequest === 1 ? singleEventBodies() : batchBodies(200, perRequest);
  const headers = { authorization: `Bearer ${options.writeKey}` };
  const api = await stack.spawnApi();
  const worker = await stack.spawnWorker();
  const apiRss = createPeakSampler(() => rssMiB(api.child.pid));
  const workerRss = createPeakSampler(() => rssMiB(worker.child.pid));
  const backlog = createPeakSampler(() => pipelineBacklog(redis), 200);
  try {
    const components = {
      api: () => [api.child.pid ?? 0],
      worker: () => [worker.child.pid ?? 0],
      redis: () => processTree(stack.redisProcessMatch),
      postgres: () => processTree(stack.postgresDir),
      load_generator: () => [process.pid],
    };
    const drained = (target: number, what: string) =>
      waitForCommitted({ pool, redis, shards: SHARDS, projectId: options.projectId, target, progress: options.progress, label: what });
    /** `durationS` of load at full speed, then the wait until every accepted event is stored. */
    async function atFullSpeed(durationS: number, what: string) {
      const rows0 = await projectRows(pool, options.projectId);
      const started = Date.now();
      const load = await runLoad({
        url: api.url,
        path,
        connections,
        durationS,
        bodies,
        headers,
        onTick: (n) => options.progress.update(`${what}: ${n * perRequest} events sent, backlog ${backlog.last()} entries`),
      });
      const { finishedAt, rows } = await drained(rows0 + (load.requests - load.non2xx) * perRequest, what);
      return { load, rows, stored: rows - rows0, seconds: (finishedAt - started) / 1000 };
    }
    if ((options.warmUpS ?? 0) > 0) await atFullSpeed(options.warmUpS!, `${label}: warming up`);

    const hist0 = await e2eHistogram(worker.adminUrl);
    const cpuSeconds: Record<string, number> = {};
    const rounds: { rate: number; steal: number }[] = [];
    let stored = 0;
    let rows = 0;
    let httpP99Ms = 0;
    let non2xx = 0;
    const roundCount = options.rounds ?? 1;
    for (let round = 1; round <= roundCount; round++) {
      await options.beforeRound?.();
      const what = roundCount > 1 ? `round ${round}: ${label}` : label;
      const cpu0 = cpuSnapshot(components);
      const stolen = stealSince();
      const run = await atFullSpeed(options.durationS, what);
      addCpuBetween(cpuSeconds, cpu0, cpuSnapshot(components));
      rounds.push({ rate: Math.round(run.stored / run.seconds), steal: stolen() });
      stored += run.stored;
      rows = run.rows;
      httpP99Ms = Math.max(httpP99Ms, run.load.latencyP99Ms);
      non2xx += run.load.non2xx;
      options.progress.done(
        `${what}: ${rounds.at(-1)!.rate} events/s committed (${run.stored} events), peak backlog ${backlog.peak()} entries, ${rounds.at(-1)!.steal} % stolen`,
      );
    }
    const rate = median(rounds.map((r) => r.rate));
    const cpuMsPer1000Events = cpuPer({}, cpuSeconds, stored);
    const fullHist = diffHistogram(await e2eHistogram(worker.adminUrl), hist0);
    const ms = (v: number | null) => (v === null ? null : Math.round(v * 10_000) / 10);

    /** Half of the full rate, paced evenly (autocannon's rate would send each second's requests in a burst). */
    async function atHalfRate(fullRate: number, rows1: number) {
      const halfReqRate = Math.max(1, Math.round(fullRate / 2 / perRequest));
      const hist1 = await e2eHistogram(worker.adminUrl);
      const half = await runPacedLoad({
        url: api.url,
        path,
        ratePerS: halfReqRate,
        durationS: options.halfRateDurationS,
        bodies,
        headers,
        onTick: (n) => options.progress.update(`${label} at ${halfReqRate * perRequest} events/s: ${n * perRequest} events sent`),
      });
      await drained(rows1 + (half.requests - half.non2xx) * perRequest, `${label} at 50 %`);
      const halfHist = diffHistogram(await e2eHistogram(worker.adminUrl), hist1);
      options.progress.done(
        `${label} at 50 % (${halfReqRate * perRequest} events/s): e2e p50 ${ms(histogramQuantile(halfHist, 0.5))} ms, p99 ${ms(histogramQuantile(halfHist, 0.99))} ms`,
      );
      return {
        half_rate_events_per_s: halfReqRate * perRequest,
        half_rate_e2e_p50_ms: ms(histogramQuantile(halfHist, 0.5)),
        half_rate_e2e_p99_ms: ms(histogramQuantile(halfHist, 0.99)),
        non_2xx: half.non2xx,
      };
    }
    const halfRate = options.halfRateDurationS > 0 ? await atHalfRate(rate, rows) : null;
    const result = {
      batch_size: perRequest,
      connections,
      warm_up_s: options.warmUpS ?? 0,
      duration_s: options.durationS,
      events_committed: stored,
      /** Each round's rate, and the share of the machine's CPU time the hypervisor gave to other guests in it (from its first request to its last commit). */
      rounds_events_per_s: rounds.map((r) => r.rate),
      rounds_steal_percent: rounds.map((r) => r.steal),
      events_per_s: rate,
      /** The share stolen in the median round. */
      steal_percent: rounds.find((r) => r.rate === rate)?.steal ?? rounds[0]!.steal,
      e2e_p50_ms: ms(histogramQuantile(fullHist, 0.5)),
      e2e_p99_ms: ms(histogramQuantile(fullHist, 0.99)),
      half_rate_events_per_s: halfRate?.half_rate_events_per_s ?? null,
      half_rate_e2e_p50_ms: halfRate?.half_rate_e2e_p50_ms ?? null,
      half_rate_e2e_p99_ms: halfRate?.half_rate_e2e_p99_ms ?? null,
      /** The highest of the rounds' HTTP p99s. */
      http_p99_ms: httpP99Ms,
      non_2xx: non2xx + (halfRate?.non_2xx ?? 0),
      /** Entries not yet stored at the worst moment (an entry holds events of one project and shard). */
      peak_backlog: backlog.peak(),
      /** CPU milliseconds each process spent per 1,000 events committed, at full speed. */
      cpu_ms_per_1000_events: cpuMsPer1000Events,
      api_rss_peak_mib: Math.round(apiRss.peak()),
      worker_rss_peak_mib: Math.round(workerRss.peak()),
    };
    return result;
  } finally {
    apiRss.stop();
    workerRss.stop();
    backlog.stop();
    await Promise.all([api.stop(), worker.stop()]);
    redis.disconnect();
    await pool.end();
  }
}
