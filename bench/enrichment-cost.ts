// What server-side enrichment costs the API: single-event ingest at 64 connections, the bundle
// as shipped, alternating two kinds of request on one Redis and PostgreSQL:
//   plain     loopback peer, no User-Agent (the hot path: nothing to add)
//   enriched  a Chrome User-Agent and X-Forwarded-For of a public address from a trusted proxy
//             (UA parse, bot check and GeoIP lookup, the database opened on the first request);
//             --addresses N: N random public addresses in turn (above the 2,000 cached, most
//             lookups are uncached); default 1, 8.8.8.8
//   baseline  (with --baseline) as enriched, run by another bundle: an A/B against an earlier
//             commit, e.g. `git archive <commit>` unpacked, its node_modules linked to these,
//             `node scripts/build-bundle.ts <dir>` there, then --baseline <dir>/bin/eap.js
// Prints each round (API RSS peak, CPU ms per 1,000 requests, req/s) and the medians as JSON;
// benchmarks/memory.md reports them.
//
//   node bench/enrichment-cost.ts [--rounds 2] [--seconds 10] [--addresses 1] [--baseline bin/eap.js]
import { parseArgs } from 'node:util';
import { isPublicAddress } from '../services/api/src/enrichment/client-ip.ts';
import { ingestBodies } from './support/bench-data.ts';
import { type EapProgram, startBenchStack } from './support/bench-stack.ts';
import { cpuPer, cpuSnapshot } from './support/cpu-accounting.ts';
import { runLoad } from './support/http-load.ts';
import { createPeakSampler, rssMiB } from './support/process-sampler.ts';
import { median } from './support/statistics.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    addresses: { type: 'string', default: '1' },
    baseline: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

/** Client addresses of the enriched requests: 8.8.8.8, or N random public ones (fixed seed). */
function clientAddresses(count: number): string[] {
  if (count <= 1) return ['8.8.8.8'];
  const out: string[] = [];
  let state = 7;
  while (out.length < count) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    const n = Math.imul(state ^ (state >>> 13), 0x5bd1e995) >>> 0;
    const ip = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
    if (isPublicAddress(ip)) out.push(ip);
  }
  return out;
}
const forwardedFor = clientAddresses(Number(values.addresses)).map((ip) => ({ 'x-forwarded-for': ip }));
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

const stack = await startBenchStack();
const project = await stack.createProject('enrichment-cost');
const bodies = ingestBodies();
interface Kind {
  headers: Record<string, string>;
  headerSets?: Record<string, string>[];
  build?: EapProgram;
}
const plain = { authorization: `Bearer ${project.write_key}` };
const enriched = { ...plain, 'user-agent': CHROME };
const kinds: Record<string, Kind> = {
  plain: { headers: plain },
  enriched: { headers: enriched, headerSets: forwardedFor },
  ...(values.baseline ? { baseline: { headers: enriched, headerSets: forwardedFor, build: { program: values.baseline } } } : {}),
};
const names = Object.keys(kinds);
const results: Record<string, { rss: number[]; cpu: number[]; rate: number[]; idle: number[] }> = Object.fromEntries(
  names.map((name) => [name, { rss: [], cpu: [], rate: [], idle: [] }]),
);

try {
  for (let round = 0; round < rounds; round++) {
    // Each kind goes first as often as the others.
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const kind of order) {
      const { headers, headerSets, build } = kinds[kind]!;
      const api = await stack.spawnApi({ TRUSTED_PROXIES: '127.0.0.1' }, build);
      try {
        const pid = api.child.pid ?? 0;
        await new Promise((r) => setTimeout(r, 3000));
        results[kind]!.idle.push(rssMiB(pid));
        const sampler = createPeakSampler(() => rssMiB(pid), 100);
        const cpu0 = cpuSnapshot({ api: () => [pid] });
        const load = await runLoad({
          url: api.url,
          path: '/v1/events',
          connections: 64,
          durationS: seconds,
          bodies,
          headers,
          ...(headerSets ? { headerSets } : {}),
        });
        const cpu = cpuPer(cpu0, cpuSnapshot({ api: () => [pid] }), load.requests);
        sampler.stop();
        results[kind]!.rss.push(Math.round(sampler.peak() * 10) / 10);
        results[kind]!.cpu.push(Math.round(cpu.api! * 10) / 10);
        results[kind]!.rate.push(Math.round(load.reqPerSec));
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
