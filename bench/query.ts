// `make bench-query` / `node bench/query.ts [--events N] [--rounds R]`: query API latency on a
// synthetic project (10,000,000 events over 30 days by default). Starts a private PostgreSQL,
// loads the events with COPY, runs every query type repeatedly (warm) through the same query
// layer as the API, prints p50/p95 and writes benchmarks/results/query-latest.json. Method and
// results: benchmarks/query.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { chmod } from 'node:fs/promises';
import { totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createMigrator, createProject } from '@eap/db';
import { ensureBinaries, startPostgres } from '@eap/local-services';
import { createQueryRunner } from '../services/api/src/query/query-runner.ts';
import { benchQueryCases, type QueryCase } from './support/query-cases.ts';
import { loadQueryData } from './support/query-load.ts';
import { machineInfo } from './support/machine-info.ts';
import { createProgress } from './support/progress.ts';
import { below, markdownReport } from './support/report.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '10000000' }, rounds: { type: 'string', default: '20' } },
  strict: true,
});
const events = Number(values.events);
const rounds = Number(values.rounds);
if (!Number.isInteger(events) || events < 1000 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('usage: node bench/query.ts [--events N (>= 1000)] [--rounds R]\n');
  process.exit(2);
}

// PostgreSQL as it would be configured for analytics on this machine: a quarter of the memory
// for shared buffers, half as the planner's cache estimate. Durable (fsync on) as in production.
const memGib = Math.floor(totalmem() / 2 ** 30);
const settings = [
  `shared_buffers=${Math.max(1, Math.floor(memGib / 4))}GB`,
  `effective_cache_size=${Math.max(1, Math.floor(memGib / 2))}GB`,
  'maintenance_work_mem=1GB',
  'max_wal_size=8GB',
];
const QUERY = { timeoutMs: 60_000, workMemMb: 64 };
const start = new Date(Date.UTC(2026, 0, 1));

const progress = createProgress();
const startedAt = Date.now();
const binaries = await ensureBinaries();
const dir = await mkdtemp(join(tmpdir(), 'eap-bench-query-'));
await chmod(dir, 0o755);
progress.done(
  `EAP query benchmark: ${events.toLocaleString('en')} events over 30 days, ${rounds} rounds; starting PostgreSQL (${settings.join(', ')})`,
);
const postgres = await startPostgres({ dataDir: join(dir, 'pg'), settings });
try {
  await createMigrator(postgres.url).up();
  const setup = new pg.Pool({ connectionString: postgres.url, max: 1 });
  const project = await createProject(setup, 'bench-query');
  await setup.end();
  const load = await loadQueryData(
    postgres.url,
    { projectId: project.project_id, events, users: Math.min(100_000, Math.max(1000, Math.floor(events / 100))), days: 30, start },
    progress,
  );

  const pool = new pg.Pool({ connectionString: postgres.url, max: 1, application_name: 'eap-bench-query' });
  const runner = createQueryRunner({ pool, ...QUERY });
  const cases = benchQueryCases(start);
  const timings = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const run = async (c: QueryCase) => {
    const t0 = performance.now();
    const result = await runner.run('UTC', (client) => c.run(client, project.project_id));
    JSON.stringify(result);
    return { ms: performance.now() - t0, result };
  };
  // One warm-up run of each, then rounds in which every case runs once, so a slow moment of the
  // machine hits all cases alike.
  const samples: Record<string, unknown> = {};
  for (const c of cases) samples[c.name] = c.summarize((await run(c)).result);
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) timings.get(c.name)!.push((await run(c)).ms);
    progress.update(`round ${r + 1} of ${rounds}`);
  }
  progress.done(`${rounds} rounds of ${cases.length} queries done`);
  await pool.end();

  const quantile = (xs: number[], q: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! * 10) / 10;
  };
  const figures = cases.map((c) => {
    const xs = timings.get(c.name)!;
    return {
      name: c.name,
      description: c.description,
      source: c.source,
      p50_ms: quantile(xs, 0.5),
      p95_ms: quantile(xs, 0.95),
      max_ms: quantile(xs, 1),
    };
  });
  const targets = cases
    .filter((c) => c.targetP95Ms !== undefined)
    .map((c) => below(`${c.name} p95 (ms)`, figures.find((f) => f.name === c.name)!.p95_ms, c.targetP95Ms!));
  const machine = machineInfo(binaries.postgresBin, binaries.redisServer);
  const results = {
    generated_at: new Date().toISOString(),
    duration_s: Math.round((Date.now() - startedAt) / 1000),
    machine,
    postgres_settings: settings,
    query_settings: { work_mem_mb: QUERY.workMemMb, jit: 'off', pool: 1 },
    data: { ...load, users: Math.min(100_000, Math.max(1000, Math.floor(events / 100))), days: 30, from: start.toISOString() },
    rounds,
    queries: figures,
    answers: samples,
    targets,
  };
  mkdirSync(new URL('../benchmarks/results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../benchmarks/results/query-latest.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    markdownReport({
      mode: `query, ${events.toLocaleString('en')} events`,
      machine,
      figures: [
        ['load with COPY (rollup trigger included), events/s', load.load_events_per_s],
        ['events table size', load.events_table_size],
        ['rollup rows: hourly counts / user-days', `${load.rollup_hour_rows} / ${load.rollup_user_day_rows}`],
        ...figures.map((f): [string, string] => [`${f.name} (${f.source}) p50 / p95 / max, ms`, `${f.p50_ms} / ${f.p95_ms} / ${f.max_ms}`]),
      ],
      targets,
    }),
  );
  progress.done(`done in ${results.duration_s} s; results in benchmarks/results/query-latest.json`);
} finally {
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}
