import { createPeakSampler, rssMiB } from '../support/process-sampler.ts';
import { clientEvents } from '../support/bench-data.ts';
import { runLoad } from '../support/http-load.ts';
import type { BenchStack } from '../support/bench-stack.ts';
import type { Progress } from '../support/progress.ts';
import { cpuPer, cpuSnapshot, processTree } from '../support/cpu-accounting.ts';

const CONNECTIONS = 64;

/**
 * Baseline A and EAP single-event ingest, driven by the same generator with the same bodies and
 * headers: a bare fastify server answering 202, then `eap api` (no worker running, so the API
 * has the machine to itself as the baseline did). Then EAP again at half its measured rate, for
 * the latency a not-saturated API gives.
 */
export async function ingestPhase(
  stack: BenchStack,
  options: { durationS: number; halfRateDurationS: number; writeKey: string; progress: Progress },
) {
  const bodies = clientEvents(1000).map((e) => JSON.stringify(e));
  const headers = { authorization: `Bearer ${options.writeKey}` };
  const tick = (label: string) => (n: number) => options.progress.update(`${label}: ${n} requests`);

  const baseline = await stack.spawnBaseline();
  const baselineCpu = { server: () => [baseline.child.pid ?? 0], load_generator: () => [process.pid] };
  const bcpu0 = cpuSnapshot(baselineCpu);
  const fastify = await runLoad({
    url: baseline.url,
    path: '/v1/events',
    connections: CONNECTIONS,
    durationS: options.durationS,
    bodies,
    headers,
    onTick: tick('baseline A (bare fastify)'),
  });
  const fastifyCpu = cpuPer(bcpu0, cpuSnapshot(baselineCpu), fastify.requests);
  await baseline.stop();
  options.progress.done(`baseline A (bare fastify): ${fastify.reqPerSec} req/s, p99 ${fastify.latencyP99Ms} ms`);

  const api = await stack.spawnApi();
  const rss = createPeakSampler(() => rssMiB(api.child.pid));
  const apiCpu = {
    server: () => [api.child.pid ?? 0],
    redis: () => processTree(stack.redisProcessMatch),
    load_generator: () => [process.pid],
  };
  const acpu0 = cpuSnapshot(apiCpu);
  const full = await runLoad({
    url: api.url,
    path: '/v1/events',
    connections: CONNECTIONS,
    durationS: options.durationS,
    bodies,
    headers,
    onTick: tick('EAP single-event ingest'),
  });
  const eapCpu = cpuPer(acpu0, cpuSnapshot(apiCpu), full.requests);
  options.progress.done(
    `EAP single-event ingest: ${full.reqPerSec} req/s, p50 ${full.latencyP50Ms} ms, p99 ${full.latencyP99Ms} ms, ${full.non2xx} non-2xx`,
  );
  const halfRate = Math.max(1, Math.round(full.reqPerSec / 2));
  const half = await runLoad({
    url: api.url,
    path: '/v1/events',
    connections: CONNECTIONS,
    durationS: options.halfRateDurationS,
    bodies,
    headers,
    overallRate: halfRate,
    onTick: tick(`EAP single-event ingest at ${halfRate} req/s`),
  });
  const apiRss = rss.stop();
  await api.stop();
  options.progress.done(`EAP single-event ingest at 50 % (${halfRate} req/s): p50 ${half.latencyP50Ms} ms, p99 ${half.latencyP99Ms} ms`);
  return {
    baseline_fastify: {
      connections: CONNECTIONS,
      duration_s: options.durationS,
      req_per_s: fastify.reqPerSec,
      p50_ms: fastify.latencyP50Ms,
      p99_ms: fastify.latencyP99Ms,
      non_2xx: fastify.non2xx,
      cpu_ms_per_1000_requests: fastifyCpu,
    },
    ingest_single: {
      connections: CONNECTIONS,
      duration_s: options.durationS,
      req_per_s: full.reqPerSec,
      p50_ms: full.latencyP50Ms,
      p99_ms: full.latencyP99Ms,
      non_2xx: full.non2xx,
      errors: full.errors,
      half_rate_req_per_s: halfRate,
      half_rate_p50_ms: half.latencyP50Ms,
      half_rate_p99_ms: half.latencyP99Ms,
      api_rss_peak_mib: Math.round(apiRss),
      cpu_ms_per_1000_requests: eapCpu,
    },
  };
}
