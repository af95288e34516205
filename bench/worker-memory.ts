// Worker memory and CPU draining a backlog, comparing variants alternately in one session:
//   node bench/worker-memory.ts <large|small> <entries> <rounds> '<variants as JSON>'
// A variant is { "name", "root"?: a checkout of the repository to run the worker from (default
// this one), "env"?: extra environment (NODE_OPTIONS replaces the recommended one) }. With
// MEMLOG=1 the worker samples process.memoryUsage() every 100 ms and the peaks are reported
// (with TRACE_GC=1 as well, it traces its garbage collections; OUTPUT=all prints its output).
// Prints one line per drain and a summary per variant (medians).
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { exited, freePort, spawnEap } from '@eap/local-services';
import { fillStreams } from './support/bench-data.ts';
import { startBenchStack } from './support/bench-stack.ts';
import { createPeakSampler, rssMiB } from './support/process-sampler.ts';
import { median } from './support/statistics.ts';
import { pipelineBacklog } from './support/stream-backlog.ts';

interface Variant {
  name: string;
  root?: string;
  env?: Record<string, string>;
}

const [size = 'large', entriesArg = '20000', roundsArg = '2', variantsArg = '[{"name":"current"}]'] = process.argv.slice(2);
const entries = Number(entriesArg);
const rounds = Number(roundsArg);
const variants = JSON.parse(variantsArg) as Variant[];
const memlog = join(tmpdir(), `eap-worker-memlog-${process.pid}.mjs`);
writeFileSync(
  memlog,
  `import { setFlagsFromString } from 'node:v8';
if (process.env.TRACE_GC) setFlagsFromString('--trace-gc');
const peak = {};
setInterval(() => {
  for (const [k, v] of Object.entries(process.memoryUsage())) peak[k] = Math.max(peak[k] ?? 0, v);
}, 100).unref();
process.on('exit', () => process.stderr.write('MEMPEAK ' + JSON.stringify(peak) + '\\n'));
`,
);

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const stack = await startBenchStack();
const redis = new Redis(stack.redisUrl);
const results = new Map<string, { rss: number[]; rate: number[]; cpu: number[] }>();
try {
  const project = await stack.createProject('worker-memory');
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      await redis.flushall();
      await fillStreams(redis, entries, project.project_id, undefined, { largest: size === 'large' });
      const adminPort = await freePort();
      const bin = variant.root ? join(variant.root, 'services/cli/bin/eap.js') : undefined;
      const nodeOptions = variant.env?.NODE_OPTIONS ?? RECOMMENDED_NODE_OPTIONS.worker;
      const child = spawnEap(
        ['worker'],
        {
          DATABASE_URL: stack.databaseUrl,
          REDIS_URL: stack.redisUrl,
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          ADMIN_PORT: String(adminPort),
          ...variant.env,
          NODE_OPTIONS: process.env.MEMLOG ? `${nodeOptions} --import ${memlog}` : nodeOptions,
        },
        bin,
      );
      const rss = createPeakSampler(() => rssMiB(child.pid), 100);
      const started = Date.now();
      let left = await pipelineBacklog(redis);
      const initial = left;
      while (left > 0 && Date.now() - started < 300_000 && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
        left = await pipelineBacklog(redis);
      }
      const seconds = (Date.now() - started) / 1000;
      const cpu = child.exitCode === null ? cpuSeconds(child.pid!) : Number.NaN;
      const peak = rss.stop();
      child.kill('SIGTERM');
      await exited(child);
      const rate = Math.round((initial - left) / seconds);
      const cpuPer1000 = Math.round(((cpu * 1000) / (initial - left)) * 1000 * 10) / 10;
      const memPeak = /MEMPEAK (.*)/.exec(child.output())?.[1];
      const mib = memPeak
        ? Object.entries(JSON.parse(memPeak) as Record<string, number>)
            .map(([k, v]) => `${k} ${Math.round(v / 1048576)}`)
            .join(', ')
        : '';
      console.log(
        `${variant.name} round ${round + 1}: ${initial - left}/${initial} drained, RSS peak ${Math.round(peak)} MiB, ${rate} events/s, CPU ${cpuPer1000} ms per 1,000 events${mib ? `; peaks (MiB) ${mib}` : ''}`,
      );
      if (left > 0 || process.env.OUTPUT) console.log(process.env.OUTPUT === 'all' ? child.output() : child.output().slice(-3000));
      const r = results.get(variant.name) ?? { rss: [], rate: [], cpu: [] };
      r.rss.push(Math.round(peak));
      r.rate.push(rate);
      r.cpu.push(cpuPer1000);
      results.set(variant.name, r);
    }
  }
  for (const [name, r] of results) {
    console.log(
      `${name}: RSS peak ${r.rss.join(' / ')} (median ${median(r.rss)}) MiB; events/s ${r.rate.join(' / ')}; CPU ms per 1,000 events ${r.cpu.join(' / ')}`,
    );
  }
} finally {
  redis.disconnect();
  await stack.stop();
}
