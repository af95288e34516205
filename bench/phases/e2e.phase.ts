import { Redis } from 'ioredis';
import pg from 'pg';
import { batchBodies, singleEventBodies } from '../support/bench-data.ts';
import { runPacedLoad } from '../support/paced-load.ts';
import type { BenchStack } from '../support/bench-stack.ts';
import { diffHistogram, histogramQuantile, parseHistogram } from '../support/histogram.ts';
import { runLoad } from '../support/http-load.ts';
import { createPeakSampler, rssMiB } from '../support/process-sampler.ts';
import type { Progress } from '../support/progress.ts';
import { cpuPer, cpuSnapshot, processTree, stealSince } from '../support/cpu-accounting.ts';
import { pipelineBacklog } from '../support/stream-backlog.ts';
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
 * written by `eap worker`, counted in PostgreSQL. The rate is events committed divided by the time
 * from the first request to the last commit (so a backlog left at the end counts against it).
 * Then, unless `halfRateDurationS` is 0, half that rate, the requests evenly spaced as steady
 * traffic arrives, for the end-to-end latency of a pipeline that is not saturated.
 */
export async function e2ePhase(
  stack: BenchStack,
  options: {
    durationS: number;
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
    // Full speed.
    const cpu0 = cpuSnapshot(components);
    const stolen = stealSince();
    const rows0 = await projectRows(pool, options.projectId);
    const hist0 = await e2eHistogram(worker.adminUrl);
    const started = Date.now();
    const load = await runLoad({
      url: api.url,
      path,
      connections,
      durationS: options.durationS,
      bodies,
      headers,
      onTick: (n) => options.progress.update(`${label}: ${n * perRequest} events sent, backlog ${backlog.last()} entries`),
    });
    const accepted = (load.requests - load.non2xx) * perRequest;
    const drained = (target: number, what: string) =>
      waitForCommitted({ pool, redis, shards: SHARDS, projectId: options.projectId, target, progress: options.progress, label: what });
    const { finishedAt: finished, rows } = await drained(rows0 + accepted, label);
    const stored = rows - rows0;
    const cpuMsPer1000Events = cpuPer(cpu0, cpuSnapshot(components), stored);
    const steal = stolen();
    const rate = Math.round(stored / ((finished - started) / 1000));
    const fullHist = diffHistogram(await e2eHistogram(worker.adminUrl), hist0);
    options.progress.done(
      `${label}: ${rate} events/s committed (${stored} events), peak backlog ${backlog.peak()} entries, ${steal} % stolen`,
    );
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
      duration_s: options.durationS,
      events_committed: stored,
      events_per_s: rate,
      /** The share of the machine's CPU time the hypervisor gave to other guests, from the first request to the last commit. */
      steal_percent: steal,
      e2e_p50_ms: ms(histogramQuantile(fullHist, 0.5)),
      e2e_p99_ms: ms(histogramQuantile(fullHist, 0.99)),
      half_rate_events_per_s: halfRate?.half_rate_events_per_s ?? null,
      half_rate_e2e_p50_ms: halfRate?.half_rate_e2e_p50_ms ?? null,
      half_rate_e2e_p99_ms: halfRate?.half_rate_e2e_p99_ms ?? null,
      http_p99_ms: load.latencyP99Ms,
      non_2xx: load.non2xx + (halfRate?.non_2xx ?? 0),
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
