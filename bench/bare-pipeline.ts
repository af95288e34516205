// The bare pipeline: how fast the least pipeline of EAP's own stack (a fastify server, a Redis
// stream, a Node writer, COPY) moves the same batches into PostgreSQL, next to EAP end to end and
// a raw COPY, in alternating rounds of one run. It says how much of what separates EAP from a raw
// COPY any pipeline of this stack on this machine pays, and how much is EAP's own work.
//
// - `copy`: baseline B of `make bench` (copyPhase), one COPY of 300,000 rows per round.
// - `eap`: `eap api` and one `eap worker` (the bundle), as the end-to-end phase of `make bench`.
// - `bare`: bench/bare-pipeline/ingest.ts and writer.ts, the same batches at the same 8
//   connections, into a plain table with the indexes of `events` (as the raw COPY's table).
// Both pipelines are measured as `make bench` measures EAP: rows counted in PostgreSQL, divided by
// the time from the first request to the last commit; CPU per process from /proc.
// Usage: node bench/bare-pipeline.ts [seconds=30] [rounds=3]
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { copyPhase } from './phases/copy.phase.ts';
import { measureShardBacklog } from '@eap/api';
import { BARE_STREAM, BARE_TABLE } from './bare-pipeline/bare-stream.ts';
import { batchBodies } from './support/bench-data.ts';
import { type BenchProcess, startBenchStack } from './support/bench-stack.ts';
import { cpuPer, cpuSnapshot, machineBusySeconds, processTree, stealSince } from './support/cpu-accounting.ts';
import { runLoad } from './support/http-load.ts';
import { projectRows, waitForCommitted, waitUntilStored } from './support/pipeline-drain.ts';
import { createPeakSampler, rssMiB } from './support/process-sampler.ts';
import { createProgress } from './support/progress.ts';
import { median } from './support/statistics.ts';

const seconds = Number(process.argv[2] ?? 30);
const rounds = Number(process.argv[3] ?? 3);
const BATCH = 100;
const CONNECTIONS = 8;
const COPY_ROWS = 300_000;

const progress = createProgress();
const stack = await startBenchStack();
const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
const redis = new Redis(stack.redisUrl);
const bodies = batchBodies(200, BATCH);

interface Run {
  events_per_s: number;
  events: number;
  cpu_ms_per_1000_events: Record<string, number>;
  /** CPU seconds the whole machine was busy per second of the run. */
  busy_cores?: number;
  /** The share of the machine's CPU time the hypervisor gave to other guests during the run. */
  steal_percent: number;
  rss_peak_mib: Record<string, number>;
}

async function bareRows(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${BARE_TABLE}`);
  return rows[0]!.n;
}

/**
 * One pipeline under the load: `processes.ingest` takes the batches, `stored` counts rows,
 * `settled` resolves when every accepted event is stored, with when it saw the last commit.
 */
async function measure(
  label: string,
  processes: { ingest: BenchProcess; writer: BenchProcess },
  headers: Record<string, string>,
  stored: () => Promise<number>,
  settled: (target: number) => Promise<number>,
): Promise<Run> {
  const components = {
    ingest: () => [processes.ingest.child.pid ?? 0],
    writer: () => [processes.writer.child.pid ?? 0],
    redis: () => processTree(stack.redisProcessMatch),
    postgres: () => processTree(stack.postgresDir),
    load_generator: () => [process.pid],
  };
  const rss = {
    ingest: createPeakSampler(() => rssMiB(processes.ingest.child.pid)),
    writer: createPeakSampler(() => rssMiB(processes.writer.child.pid)),
  };
  try {
    const rows0 = await stored();
    const cpu0 = cpuSnapshot(components);
    const busy0 = machineBusySeconds();
    const stolen = stealSince();
    const started = Date.now();
    const load = await runLoad({
      url: processes.ingest.url,
      path: '/v1/batch',
      connections: CONNECTIONS,
      durationS: seconds,
      bodies,
      headers,
      onTick: (n) => progress.update(`${label}: ${n * BATCH} events sent`),
    });
    if (load.non2xx > 0) throw new Error(`${label}: ${load.non2xx} requests refused`);
    const finishedAt = await settled(rows0 + load.requests * BATCH);
    const cpu = cpuSnapshot(components);
    const busy = machineBusySeconds() - busy0;
    const steal = stolen();
    const elapsed = (Date.now() - started) / 1000;
    const events = (await stored()) - rows0;
    return {
      events_per_s: Math.round(events / ((finishedAt - started) / 1000)),
      events,
      cpu_ms_per_1000_events: cpuPer(cpu0, cpu, events),
      busy_cores: Math.round((busy / elapsed) * 100) / 100,
      steal_percent: steal,
      rss_peak_mib: { ingest: Math.round(rss.ingest.peak()), writer: Math.round(rss.writer.peak()) },
    };
  } finally {
    rss.ingest.stop();
    rss.writer.stop();
    await Promise.all([processes.ingest.stop(), processes.writer.stop()]);
  }
}

try {
  const project = await stack.createProject('bare-pipeline');
  await pool.query(`CREATE TABLE ${BARE_TABLE} (LIKE events INCLUDING ALL)`);
  const runs: Record<'copy' | 'eap' | 'bare', Run[]> = { copy: [], eap: [], bare: [] };
  const steps = {
    copy: async () => {
      const copy = await copyPhase(stack.databaseUrl, {
        rows: COPY_ROWS,
        rounds: 1,
        projectId: project.project_id,
        postgresDir: stack.postgresDir,
        progress,
      });
      runs.copy.push({
        events_per_s: copy.rows_per_s,
        events: copy.rows,
        cpu_ms_per_1000_events: copy.cpu_ms_per_1000_rows,
        steal_percent: copy.rounds_steal_percent[0]!,
        rss_peak_mib: {},
      });
    },
    eap: async () => {
      const [ingest, writer] = [await stack.spawnApi(), await stack.spawnWorker()];
      const settled = async (target: number) =>
        (await waitForCommitted({ pool, redis, shards: 4, projectId: project.project_id, target, progress, label: 'EAP' })).finishedAt;
      runs.eap.push(
        await measure(
          'EAP',
          { ingest, writer },
          { authorization: `Bearer ${project.write_key}` },
          () => projectRows(pool, project.project_id),
          settled,
        ),
      );
    },
    bare: async () => {
      const settled = async (target: number) =>
        (
          await waitUntilStored({
            backlog: () => measureShardBacklog(redis, BARE_STREAM),
            rows: bareRows,
            target,
            progress,
            label: 'bare pipeline',
          })
        ).finishedAt;
      runs.bare.push(await measure('bare pipeline', await stack.spawnBarePipeline(project.project_id), {}, bareRows, settled));
    },
  };
  for (let round = 0; round < rounds; round++) {
    const order = (['copy', 'eap', 'bare'] as const).slice();
    if (round % 2 === 1) order.reverse();
    for (const name of order) {
      await steps[name]();
      const run = runs[name].at(-1)!;
      progress.done(
        `round ${round + 1}, ${name}: ${run.events_per_s} events/s, CPU ms per 1,000: ${JSON.stringify(run.cpu_ms_per_1000_events)}, busy cores ${run.busy_cores ?? '-'}, ${run.steal_percent} % stolen`,
      );
    }
  }
  const rowBytes = async (sql: string, params: unknown[] = []) =>
    (await pool.query<{ b: number }>(`SELECT avg(pg_column_size(t.*))::int AS b FROM (${sql} LIMIT 20000) t`, params)).rows[0]!.b;
  const medianRate = (name: keyof typeof runs) => median(runs[name].map((r) => r.events_per_s));
  const result = {
    measured_at: new Date().toISOString(),
    seconds,
    rounds,
    batch_size: BATCH,
    connections: CONNECTIONS,
    row_bytes: {
      eap: await rowBytes('SELECT * FROM events WHERE project_id = $1', [project.project_id]),
      bare: await rowBytes(`SELECT * FROM ${BARE_TABLE}`),
    },
    median_events_per_s: { copy: medianRate('copy'), eap: medianRate('eap'), bare: medianRate('bare') },
    ratios: {
      eap_vs_copy: Math.round((medianRate('eap') / medianRate('copy')) * 1000) / 1000,
      bare_vs_copy: Math.round((medianRate('bare') / medianRate('copy')) * 1000) / 1000,
      eap_vs_bare: Math.round((medianRate('eap') / medianRate('bare')) * 1000) / 1000,
    },
    runs,
  };
  const out = new URL('../benchmarks/results/bare-pipeline-latest.json', import.meta.url);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    JSON.stringify({ median_events_per_s: result.median_events_per_s, ratios: result.ratios, row_bytes: result.row_bytes }, null, 2),
  );
} finally {
  redis.disconnect();
  await pool.end();
  await stack.stop();
}
