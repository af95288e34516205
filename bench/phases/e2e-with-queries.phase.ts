import { Redis } from 'ioredis';
import pg from 'pg';
import { batchBodies } from '../support/bench-data.ts';
import { type BenchProcess, type BenchStack, spawnAll } from '../support/bench-stack.ts';
import { cpuPer, cpuSnapshot, processTree } from '../support/cpu-accounting.ts';
import { type LoadResult, runLoad } from '../support/http-load.ts';
import { type Sample, summarize, timedRequest } from '../support/latency-probe.ts';
import { projectRows, waitForCommitted } from '../support/pipeline-drain.ts';
import type { Progress } from '../support/progress.ts';

const BATCH = 100;
const CONNECTIONS = 8;
const SHARDS = 4;
const QUERY_INTERVAL_MS = 1000;
const QUERY_TIMEOUT_MS = 15_000;

/**
 * The dashboard's two queries over yesterday and today (whole UTC days, as a dashboard asks and as
 * both queries can answer from the rollups), so they read every event of the last 24 hours.
 */
function dashboardQueries(now = Date.now()) {
  const day = 86_400_000;
  const from = new Date(now - day).toISOString().slice(0, 10);
  const to = new Date(now + day).toISOString().slice(0, 10);
  return {
    trends: { path: '/v1/query/trends', body: { events: ['page_view'], from, to, interval: 'hour' } },
    funnel: {
      path: '/v1/query/funnel',
      body: { steps: ['page_view', 'add_to_cart', 'purchase'], from, to, window_seconds: 86_400 },
    },
  };
}

/** The POST of one query with a read key. */
function queryRequest(readKey: string, body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: { authorization: `Bearer ${readKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/**
 * Sends one query every `intervalMs` (the next one when the previous has answered, if it takes
 * longer) until `stop()`, which waits for the one in flight and returns every sample.
 */
function startQueryTicker(url: string, readKey: string, body: unknown, intervalMs: number) {
  const samples: Sample[] = [];
  let stopping = false;
  const init = queryRequest(readKey, body);
  const loop = (async () => {
    while (!stopping) {
      const t0 = performance.now();
      samples.push(await timedRequest(url, init, QUERY_TIMEOUT_MS));
      const wait = t0 + intervalMs - performance.now();
      if (wait > 0 && !stopping) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return samples;
    },
  };
}

function querySummary(samples: Sample[]) {
  const s = summarize(samples);
  return {
    sent: s.sent,
    p50_ms: s.p50_ms,
    p99_ms: s.p99_ms,
    /** Answers other than 2xx, and requests with no answer within the timeout. */
    errors: s.sent - s.ok,
    statuses: [...new Set(samples.map((x) => x.status))],
  };
}

/**
 * EAP end to end (one `eap api`, one `eap worker`, batches of 100 at full speed, 8 connections)
 * while a dashboard asks the same API process for a trends query and a funnel query once a second
 * each, over yesterday and today in `queryProject` (which holds the end-to-end phase's events).
 * The load writes to a project of its own, so its events are counted apart. With `baseline`, the
 * same load first runs without queries, in the same processes, for the comparison.
 */
export async function e2eWithQueriesPhase(
  stack: BenchStack,
  options: { durationS: number; baseline: boolean; queryProjectId: string; readKey: string; progress: Progress },
) {
  const redis = new Redis(stack.redisUrl);
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
  const spawned: BenchProcess[] = [];
  const bodies = batchBodies(200, BATCH);

  async function run(api: BenchProcess, worker: BenchProcess, project: { project_id: string; write_key: string }, withQueries: boolean) {
    const headers = { authorization: `Bearer ${project.write_key}` };
    const components = {
      api: () => [api.child.pid ?? 0],
      worker: () => [worker.child.pid ?? 0],
      redis: () => processTree(stack.redisProcessMatch),
      postgres: () => processTree(stack.postgresDir),
      load_generator: () => [process.pid],
    };
    const label = `EAP end to end ${withQueries ? 'with' : 'without'} queries`;
    const rows0 = await projectRows(pool, project.project_id);
    const queries = dashboardQueries();
    const cpu0 = cpuSnapshot(components);
    const started = Date.now();
    const tickers = withQueries
      ? {
          trends: startQueryTicker(`${api.url}${queries.trends.path}`, options.readKey, queries.trends.body, QUERY_INTERVAL_MS),
          funnel: startQueryTicker(`${api.url}${queries.funnel.path}`, options.readKey, queries.funnel.body, QUERY_INTERVAL_MS),
        }
      : null;
    let measured: { load: LoadResult; finishedAt: number; rows: number; cpu1: Record<string, number> };
    let answers: [Sample[], Sample[]] | null = null;
    try {
      const load = await runLoad({
        url: api.url,
        path: '/v1/batch',
        connections: CONNECTIONS,
        durationS: options.durationS,
        bodies,
        headers,
        onTick: (n) => options.progress.update(`${label}: ${n * BATCH} events sent`),
      });
      // Queries keep running until the last commit: the rate's window is first request to last commit.
      const { finishedAt, rows } = await waitForCommitted({
        pool,
        redis,
        shards: SHARDS,
        projectId: project.project_id,
        target: rows0 + (load.requests - load.non2xx) * BATCH,
        progress: options.progress,
        label,
      });
      measured = { load, finishedAt, rows, cpu1: cpuSnapshot(components) };
    } finally {
      if (tickers) answers = await Promise.all([tickers.trends.stop(), tickers.funnel.stop()]);
    }
    const { load, finishedAt, rows, cpu1 } = measured;
    const trends = answers ? querySummary(answers[0]) : null;
    const funnel = answers ? querySummary(answers[1]) : null;
    const stored = rows - rows0;
    const result = {
      events_per_s: Math.round(stored / ((finishedAt - started) / 1000)),
      events_committed: stored,
      non_2xx: load.non2xx,
      cpu_ms_per_1000_events: cpuPer(cpu0, cpu1, stored),
      ...(trends && funnel ? { trends, funnel } : {}),
    };
    options.progress.done(
      `${label}: ${result.events_per_s} events/s committed (${stored} events)${
        trends && funnel
          ? `; trends p50/p99 ${trends.p50_ms}/${trends.p99_ms} ms, ${trends.errors} errors; funnel p50/p99 ${funnel.p50_ms}/${funnel.p99_ms} ms, ${funnel.errors} errors`
          : ''
      }`,
    );
    return result;
  }

  try {
    const project = await stack.createProject('e2e-with-queries');
    const shards = { STREAM_SHARDS: String(SHARDS) };
    const [api, worker] = (await spawnAll([() => stack.spawnApi(shards), () => stack.spawnWorker(shards)], spawned)) as [
      BenchProcess,
      BenchProcess,
    ];
    const queriedEvents = await projectRows(pool, options.queryProjectId);
    // Statistics and the visibility map for the events the phase before wrote, as autovacuum gives
    // them soon after any large load (inserts alone trigger it since PostgreSQL 13): without them
    // the funnel's plan over freshly written partitions can take seconds instead of milliseconds
    // (no index-only scans before pages are marked all-visible, benchmarks/funnel-plan.md), and
    // the figure would say when autovacuum ran.
    await pool.query('VACUUM (ANALYZE) events, event_counts_hourly, event_user_days');
    // Each query once with no ingest load, for comparison (after the phase before has drained).
    const idle = dashboardQueries();
    const idleMs = async (q: { path: string; body: unknown }) => {
      const sample = await timedRequest(`${api.url}${q.path}`, queryRequest(options.readKey, q.body), QUERY_TIMEOUT_MS);
      return sample.status === 200 ? Math.round(sample.ms * 10) / 10 : `status ${sample.status ?? 'no answer'}`;
    };
    const idleTrendsMs = await idleMs(idle.trends);
    const idleFunnelMs = await idleMs(idle.funnel);
    const without = options.baseline ? await run(api, worker, project, false) : null;
    const withQueries = await run(api, worker, project, true);
    return {
      batch_size: BATCH,
      connections: CONNECTIONS,
      duration_s: options.durationS,
      query_interval_ms: QUERY_INTERVAL_MS,
      /** Events of the queried project when the phase started (what the queries read). */
      queried_project_events: queriedEvents,
      events_per_s: withQueries.events_per_s,
      events_per_s_without_queries: without?.events_per_s ?? null,
      events_committed: withQueries.events_committed,
      non_2xx: withQueries.non_2xx + (without?.non_2xx ?? 0),
      cpu_ms_per_1000_events: withQueries.cpu_ms_per_1000_events,
      cpu_ms_per_1000_events_without_queries: without?.cpu_ms_per_1000_events ?? null,
      trends: withQueries.trends ?? null,
      funnel: withQueries.funnel ?? null,
      /** Each query once before the load, with nothing else running in the pipeline. */
      trends_without_load_ms: idleTrendsMs,
      funnel_without_load_ms: idleFunnelMs,
    };
  } finally {
    await Promise.all(spawned.map((p) => p.stop()));
    redis.disconnect();
    await pool.end();
  }
}
