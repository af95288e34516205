// Paired A/B of `eap api` builds or settings: the variants run side by side, each under the same
// load from its own connections, so every round measures them on the same machine at the same
// moment, and compares their CPU per event. On this machine the CPU per request of one API moves
// by up to half between runs a few minutes apart (benchmarks/profiles.md, "Twentieth round");
// side by side, two identical APIs differ by a few per cent per round, so changes of 3-5 % can be
// told apart in a handful of rounds.
//
// Usage: node bench/paired-api.ts [--seconds 8] [--rounds 6] [--batch 1] [--connections 16] VARIANT...
//   VARIANT: name=PROGRAM[|ENV=VALUE;ENV=VALUE]
//   PROGRAM: `bundle` (built from the working tree), `sources`, or the path of an eap.js bundle
//            (`node scripts/build-bundle.ts DIR` makes one: DIR/bin/eap.js).
//   ENV:     environment of that API; NODE_OPTIONS replaces the recommended heap settings.
// Example: node bench/paired-api.ts before=/tmp/before/bin/eap.js after=bundle control=bundle
//
// Every variant gets `connections` connections of single-event requests (`--batch N`: requests of
// N events at /v1/batch), 10 s unmeasured first, then `rounds` measured runs of `seconds` each.
// A faster variant serves more requests at the same connections, which makes its calls to Redis
// carry more requests each; side by side the rates differ little, so this bias stays small, and
// a variant identical to the first (a control) shows what is left of the noise.
import { parseArgs } from 'node:util';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { batchBodies, ingestBodies } from './support/bench-data.ts';
import { type BenchProcess, startBenchStack } from './support/bench-stack.ts';
import { cpuPer, cpuSnapshot, stealSince } from './support/cpu-accounting.ts';
import { runLoad } from './support/http-load.ts';
import { median } from './support/statistics.ts';
import { startStreamTrimmer } from './support/stream-trimmer.ts';
import { parseVariant } from './support/variant.ts';

const WARM_UP_S = 10;

const { values, positionals } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '6' },
    batch: { type: 'string', default: '1' },
    connections: { type: 'string' },
  },
  allowPositionals: true,
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const batch = Number(values.batch);
const connections = Number(values.connections ?? (batch === 1 ? 16 : 4));

const variants = positionals.map(parseVariant);
if (new Set(variants.map((v) => v.name)).size !== variants.length) throw new Error('each variant needs a name of its own');
if (variants.length < 2 || !(seconds > 0) || !(rounds > 0) || !(batch >= 1) || !(connections >= 1)) {
  throw new Error('usage: node bench/paired-api.ts [--seconds S] [--rounds R] [--batch N] [--connections C] VARIANT VARIANT...');
}

const stack = await startBenchStack();
const trimmer = startStreamTrimmer(stack.redisUrl);
const apis: BenchProcess[] = [];
try {
  const project = await stack.createProject('paired-api');
  // The bodies of the benchmark's phases: its single-event ingest, its batches end to end.
  const bodies = batch === 1 ? ingestBodies() : batchBodies(200, batch);
  const path = batch === 1 ? '/v1/events' : '/v1/batch';
  const headers = { authorization: `Bearer ${project.write_key}` };
  for (const v of variants) {
    // As the benchmark runs the API: the rate limiter on, the streams trimmed every 10 s.
    apis.push(await stack.spawnApi({ NODE_OPTIONS: RECOMMENDED_NODE_OPTIONS.api, TRIM_INTERVAL_MS: '10000', ...v.env }, v.build));
  }
  // Each variant's API process, as the benchmark's phases count it (with the children it waited for).
  const processes = Object.fromEntries(variants.map((v, i) => [v.name, () => [apis[i]!.child.pid!]]));
  const loadAll = (durationS: number) =>
    Promise.all(apis.map((api) => runLoad({ url: api.url, path, connections, durationS, bodies, headers })));
  await loadAll(WARM_UP_S);
  const ratios: number[][] = variants.map(() => []);
  for (let round = 1; round <= rounds; round++) {
    const before = cpuSnapshot(processes);
    const stolen = stealSince();
    const results = await loadAll(seconds);
    const steal = stolen();
    // CPU ms each API spent in the round, then µs per event over the events it served.
    const spent = cpuPer(before, cpuSnapshot(processes), 1, 1);
    const perEvent = variants.map((v, i) => (spent[v.name]! * 1000) / (results[i]!.requests * batch));
    for (const [i, cpu] of perEvent.entries()) ratios[i]!.push(cpu / perEvent[0]!);
    const parts = variants.map((v, i) => {
      const { reqPerSec, non2xx, errors } = results[i]!;
      const failed = non2xx + errors > 0 ? ` (${non2xx} non-2xx, ${errors} errors: not comparable)` : '';
      return `${v.name} ${reqPerSec * batch} events/s, ${perEvent[i]!.toFixed(1)} µs${failed}`;
    });
    // Both variants lose what is stolen, but a round with much of it is a noisier one.
    console.log(`round ${round}: ${parts.join('; ')}; ${steal} % stolen`);
  }
  console.log(`CPU per event against ${variants[0]!.name}, median of ${rounds} rounds [each round]:`);
  for (const [i, v] of variants.entries()) {
    if (i === 0) continue;
    console.log(`  ${v.name}: ${median(ratios[i]!).toFixed(3)} [${ratios[i]!.map((r) => r.toFixed(3)).join(' ')}]`);
  }
} finally {
  for (const api of apis) await api.stop();
  await trimmer.stop();
  await stack.stop();
}
