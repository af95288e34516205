// What server-side enrichment costs the API: single-event ingest at 64 connections, the bundle
// as shipped, alternating two kinds of request on one Redis and PostgreSQL:
//   plain     loopback peer, no User-Agent (the hot path: nothing to add)
//   enriched  a Chrome User-Agent and X-Forwarded-For of a public address from a trusted proxy
//             (UA parse, bot check and GeoIP lookup, the database loaded on the first request)
// Prints each round (API RSS peak, CPU ms per 1,000 requests, req/s) and the medians as JSON;
// benchmarks/memory.md reports them.
//
//   node bench/enrichment-cost.ts [--rounds 2] [--seconds 10]
import { parseArgs } from 'node:util';
import { clientEvents } from './support/bench-data.ts';
import { startBenchStack } from './support/bench-stack.ts';
import { cpuPer, cpuSnapshot } from './support/cpu-accounting.ts';
import { runLoad } from './support/http-load.ts';
import { createPeakSampler, rssMiB } from './support/process-sampler.ts';
import { median } from './support/statistics.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, seconds: { type: 'string', default: '10' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

const stack = await startBenchStack();
const project = await stack.createProject('enrichment-cost');
const bodies = clientEvents(1000).map((e) => JSON.stringify(e));
const kinds = {
  plain: { authorization: `Bearer ${project.write_key}` },
  enriched: { authorization: `Bearer ${project.write_key}`, 'user-agent': CHROME, 'x-forwarded-for': '8.8.8.8' },
};
type Kind = keyof typeof kinds;
const results: Record<Kind, { rss: number[]; cpu: number[]; rate: number[]; idle: number[] }> = {
  plain: { rss: [], cpu: [], rate: [], idle: [] },
  enriched: { rss: [], cpu: [], rate: [], idle: [] },
};

try {
  for (let round = 0; round < rounds; round++) {
    const order: Kind[] = round % 2 === 0 ? ['plain', 'enriched'] : ['enriched', 'plain'];
    for (const kind of order) {
      const api = await stack.spawnApi({ TRUSTED_PROXIES: '127.0.0.1' });
      try {
        const pid = api.child.pid ?? 0;
        await new Promise((r) => setTimeout(r, 3000));
        results[kind].idle.push(rssMiB(pid));
        const sampler = createPeakSampler(() => rssMiB(pid), 100);
        const cpu0 = cpuSnapshot({ api: () => [pid] });
        const load = await runLoad({ url: api.url, path: '/v1/events', connections: 64, durationS: seconds, bodies, headers: kinds[kind] });
        const cpu = cpuPer(cpu0, cpuSnapshot({ api: () => [pid] }), load.requests);
        sampler.stop();
        results[kind].rss.push(Math.round(sampler.peak() * 10) / 10);
        results[kind].cpu.push(Math.round(cpu.api! * 10) / 10);
        results[kind].rate.push(Math.round(load.reqPerSec));
        console.log(
          JSON.stringify({
            round,
            kind,
            rss_peak_mib: sampler.peak(),
            cpu_ms_per_1000: cpu.api,
            req_per_s: load.reqPerSec,
            non_2xx: load.non2xx,
          }),
        );
      } finally {
        await api.stop();
      }
    }
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([kind, r]) => [
      kind,
      {
        idle_rss_mib: r.idle,
        rss_peak_mib: r.rss,
        median_rss_peak_mib: median(r.rss),
        cpu_ms_per_1000: r.cpu,
        median_cpu_ms_per_1000: median(r.cpu),
        req_per_s: r.rate,
      },
    ]),
  );
  console.log(JSON.stringify(summary, null, 2));
} finally {
  await stack.stop();
}
