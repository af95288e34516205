// `make bench-funnel-plan` / `node bench/funnel-plan.ts [--events N] [--runs R] [--writer-events N]`:
// the plan and latency of the dashboard funnel of `make bench` (page_view → add_to_cart →
// purchase, window one day, over yesterday and today) on a full-size project, for each index on
// (project_id, event, "timestamp") that the comparison holds, with and without bot events, before
// and after VACUUM. Starts a private PostgreSQL as `make bench` does (durable default settings:
// shared_buffers 128 MB, so the events do not sit in PostgreSQL's cache), applies the migrations,
// loads the funnel model's events with COPY (rollup and persons triggers included), ANALYZE, then
// runs the funnel exactly as the API builds it (queryFunnel) with EXPLAIN (ANALYZE, BUFFERS) and
// times it. Then measures what each index costs the worker's writer. Method and results:
// benchmarks/funnel-plan.md. Writes benchmarks/results/funnel-plan-latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createMigrator, createProject } from '@eap/db';
import { ensureBinaries, startPostgres } from '@eap/local-services';
import { queryFunnel } from '../services/api/src/query/funnel.query.ts';
import { FunnelRequest } from '../services/api/src/query/query.schemas.ts';
import type { QueryClient } from '../services/api/src/query/query-runner.ts';
import { loadFunnelData } from './support/funnel-data.ts';
import {
  ensureFunnelIndexes,
  FUNNEL_INDEX_VARIANTS,
  type FunnelIndexVariant,
  funnelIndexes,
  partitionedIndexMib,
  partitionParents,
} from './support/funnel-indexes.ts';
import { indexWriteCost } from './support/index-write-cost.ts';
import { machineInfo } from './support/machine-info.ts';
import { type PlanNode, type PlanSummary, scanLines, summarizePlan } from './support/plan-summary.ts';
import { createProgress } from './support/progress.ts';
import { median } from './support/statistics.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '2300000' },
    users: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    indexes: { type: 'string', default: Object.keys(FUNNEL_INDEX_VARIANTS).join(',') },
    'writer-events': { type: 'string', default: '100000' },
    'writer-rounds': { type: 'string', default: '3' },
    out: { type: 'string', default: 'benchmarks/results/funnel-plan-latest.json' },
  },
  strict: true,
});
const events = Number(values.events);
const users = Number(values.users);
const runs = Number(values.runs);
const writerEvents = Number(values['writer-events']);
const writerRounds = Number(values['writer-rounds']);
const variants = values.indexes.split(',') as FunnelIndexVariant[];
if (
  ![events, users, runs, writerRounds].every((n) => Number.isInteger(n) && n > 0) ||
  !Number.isInteger(writerEvents) ||
  writerEvents < 0 ||
  variants.some((v) => !(v in FUNNEL_INDEX_VARIANTS))
) {
  process.stderr.write(
    `usage: node bench/funnel-plan.ts [--events N] [--users U] [--runs R] [--indexes ${Object.keys(FUNNEL_INDEX_VARIANTS).join(',')}] [--writer-events N (0: skip)] [--writer-rounds R] [--out FILE]\n`,
  );
  process.exit(2);
}

const DAY_MS = 86_400_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
// The dashboard funnel of bench/phases/e2e-with-queries.phase.ts.
const funnelRequest = (includeBots: boolean) =>
  FunnelRequest.parse({
    steps: ['page_view', 'add_to_cart', 'purchase'],
    from: day(today - DAY_MS),
    to: day(today + DAY_MS),
    window_seconds: 86_400,
    include_bots: includeBots,
  });
// The query runner's transaction settings (query-runner.ts) with the API's defaults, but time to finish.
const RUNNER_SETTINGS = `SELECT set_config('statement_timeout', '120s', true), set_config('work_mem', '64MB', true),
  set_config('TimeZone', 'UTC', true), set_config('jit', 'off', true)`;

async function withPool<T>(url: string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

const progress = createProgress();
const startedAt = Date.now();
const binaries = await ensureBinaries();
const dir = await mkdtemp(join(tmpdir(), 'eap-bench-funnel-'));
await chmod(dir, 0o755);
const postgres = await startPostgres({ dataDir: join(dir, 'pg') });
const db = new pg.Client({ connectionString: postgres.url });
try {
  await createMigrator(postgres.url).up();
  await db.connect();
  const project = await withPool(postgres.url, (pool) => createProject(pool, 'funnel-plan'));
  await db.query('SELECT eap_ensure_event_partitions($1::date, $2::date)', [day(today - DAY_MS), day(today + DAY_MS)]);
  // No autovacuum on the partitions: "after ANALYZE" then means no page is marked all-visible,
  // the state right after a large load, whatever autovacuum would have reached meanwhile.
  const { rows: parts } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`,
  );
  for (const p of parts) await db.query(`ALTER TABLE ${p.name} SET (autovacuum_enabled = false)`);
  // Every compared index exists while the events are written, so each is as the writer leaves it
  // (page splits included), not packed by a build after the load.
  const indexNames = await ensureFunnelIndexes(db, variants);
  progress.done(
    `EAP funnel plan: indexes ${JSON.stringify(indexNames)}; loading ${events.toLocaleString('en')} events of ${users.toLocaleString('en')} users over ${day(today - DAY_MS)} and ${day(today)}`,
  );
  const loadSeconds = await loadFunnelData(
    db,
    { projectId: project.project_id, events, users, from: new Date(today - DAY_MS), to: new Date(today + DAY_MS) },
    progress,
  );
  progress.done(`loaded in ${Math.round(loadSeconds)} s`);
  const parents = await partitionParents(db);
  const allFunnelIndexes = [...(await funnelIndexes(db)).keys()];

  /** queryFunnel in a transaction with the runner's settings, where only `index` of the funnel-key indexes exists. */
  async function withOnly<T>(index: string, work: () => Promise<T>): Promise<T> {
    await db.query('BEGIN');
    try {
      for (const other of allFunnelIndexes) if (other !== index) await db.query(`DROP INDEX ${other}`);
      await db.query(RUNNER_SETTINGS);
      return await work();
    } finally {
      await db.query('ROLLBACK');
    }
  }

  /**
   * A client that runs the funnel statement (the one starting WITH) as queryFunnel built it or, with
   * `withoutBotFilter`, as it read events before is_bot (`events e` instead of the subquery that
   * leaves bots out); with `plans`, answers it with its plan instead of its rows.
   */
  function funnelClient(o: { withoutBotFilter: boolean; plans?: unknown[] }): QueryClient {
    const query = async (sql: string, params?: unknown[]) => {
      if (!sql.trimStart().startsWith('WITH')) return db.query(sql, params);
      const text = o.withoutBotFilter ? sql.replace(/\(SELECT \* FROM events e WHERE NOT e\.is_bot\) (\w+)/g, 'events $1') : sql;
      if (o.withoutBotFilter && text === sql) throw new Error('no bot filter found in the funnel SQL to take out');
      if (!o.plans) return db.query(text, params);
      const { rows } = await db.query<{ 'QUERY PLAN': unknown[] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, params);
      o.plans.push(rows[0]!['QUERY PLAN'][0]);
      return { rows: [] };
    };
    return { query } as unknown as QueryClient;
  }

  interface Case {
    state: string;
    index: FunnelIndexVariant;
    include_bots: boolean;
    /** "api": as queryFunnel builds it; "before is_bot": events read without the bot filter. */
    sql: string;
    first_ms: number;
    median_ms: number;
    runs_ms: number[];
    steps: number[];
    plan: PlanSummary;
  }
  const cases: Case[] = [];
  const visibility: Record<string, unknown> = {};

  async function measure(state: string): Promise<void> {
    const { rows } = await db.query<{ pages: number; all_visible: number }>(
      `SELECT sum(c.relpages)::int AS pages, sum(c.relallvisible)::int AS all_visible
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`,
    );
    visibility[state] = rows[0];
    progress.done(`${state}: heap pages ${rows[0]!.pages}, all-visible ${rows[0]!.all_visible}`);
    for (const index of variants) {
      // The SQL before is_bot once, on the first index (0002's when all are compared).
      const queries = [
        { includeBots: false, withoutBotFilter: false },
        { includeBots: true, withoutBotFilter: false },
        ...(index === variants[0] ? [{ includeBots: false, withoutBotFilter: true }] : []),
      ];
      for (const { includeBots, withoutBotFilter } of queries) {
        const request = funnelRequest(includeBots);
        const sql = withoutBotFilter ? 'before is_bot' : 'api';
        const label = `${state}, index ${index}, include_bots ${includeBots}, sql ${sql}`;
        progress.update(`${label}: running`);
        const timed = async () =>
          withOnly(indexNames[index]!, async () => {
            const t0 = performance.now();
            const result = await queryFunnel(funnelClient({ withoutBotFilter }), project.project_id, request);
            return { ms: Math.round((performance.now() - t0) * 10) / 10, steps: result.steps.map((s) => s.count) };
          });
        const first = await timed();
        const times: number[] = [];
        for (let r = 0; r < runs; r++) times.push((await timed()).ms);
        const plans: unknown[] = [];
        await withOnly(indexNames[index]!, () => queryFunnel(funnelClient({ withoutBotFilter, plans }), project.project_id, request));
        const plan = summarizePlan(plans[0] as { Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }, parents);
        cases.push({
          state,
          index,
          include_bots: includeBots,
          sql,
          first_ms: first.ms,
          median_ms: median(times),
          runs_ms: times,
          steps: first.steps,
          plan,
        });
        progress.done(
          `${label}: first ${first.ms} ms, median ${median(times)} ms of ${times.join(', ')}; steps ${first.steps.join(' → ')}; plan ${plan.execution_ms} ms, buffers hit ${plan.shared_hit} read ${plan.shared_read}, nodes ${JSON.stringify(plan.nodes)}`,
        );
        for (const line of scanLines(plan)) progress.done(line);
      }
    }
  }

  await db.query('ANALYZE events, event_counts_hourly, event_user_days');
  await measure('after ANALYZE');
  const vacuumStarted = performance.now();
  await db.query('VACUUM events');
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
  progress.done(`VACUUM events in ${Math.round(vacuumSeconds)} s`);
  await measure('after VACUUM');

  // What 0007 costs an existing database on upgrade: building its index over these events.
  const buildStarted = performance.now();
  await db.query(`CREATE INDEX funnel_plan_build_idx ON events USING btree ${FUNNEL_INDEX_VARIANTS.include_user_bot}`);
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  await db.query('DROP INDEX funnel_plan_build_idx');
  progress.done(`building the 0007 index over ${events.toLocaleString('en')} events: ${Math.round(buildSeconds * 10) / 10} s`);
  const sizes: Record<string, number> = {};
  for (const index of variants) sizes[index] = await partitionedIndexMib(db, indexNames[index]!);
  const { rows: tableRows } = await db.query<{ mib: string }>(
    `SELECT round(sum(pg_relation_size(inhrelid)) / 2^20) AS mib FROM pg_inherits WHERE inhparent = 'events'::regclass`,
  );

  let writer: Awaited<ReturnType<typeof indexWriteCost>> | null = null;
  if (writerEvents > 0) {
    await db.query('CREATE DATABASE funnel_plan_writer');
    const writerUrl = postgres.url.replace(/\/postgres$/, '/funnel_plan_writer');
    await createMigrator(writerUrl).up();
    const writerProject = await withPool(writerUrl, (pool) => createProject(pool, 'writer'));
    writer = await indexWriteCost(writerUrl, {
      variants,
      events: writerEvents,
      rounds: writerRounds,
      projectId: writerProject.project_id,
      postgresDir: postgres.dataDir,
      progress,
    });
    progress.done(`writer with each index: ${JSON.stringify(writer)}`);
  }

  const report = {
    generated_at: new Date().toISOString(),
    duration_s: Math.round((Date.now() - startedAt) / 1000),
    machine: machineInfo(binaries.postgresBin, binaries.redisServer),
    events,
    users,
    load_seconds: Math.round(loadSeconds),
    vacuum_seconds: Math.round(vacuumSeconds),
    index_build_seconds: Math.round(buildSeconds * 10) / 10,
    events_heap_mib: Number(tableRows[0]!.mib),
    index_mib: sizes,
    index_definitions: Object.fromEntries(variants.map((v) => [v, `${indexNames[v]}: ${FUNNEL_INDEX_VARIANTS[v]}`])),
    visibility,
    cases,
    writer,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  progress.done(`wrote ${values.out} (${report.duration_s} s in all)`);
} finally {
  await db.end().catch(() => undefined);
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}
