// `make bench-query-isolation` / `node bench/query-isolation.ts [--values N] [--requests R]`:
// does a heavy query stall ingest? Seeds one day of events whose `ref` property has N distinct
// values (300,000 by default) into a private PostgreSQL, then, for each mode, measures `/livez`
// and single-event ingest latency (R requests of each, one at a time, a pair every 50 ms) with
// no query, then while a trends breakdown over `ref` runs without pause. Modes: `all` (one
// `eap api` serving both) and `separate` (API_SERVE=ingest and API_SERVE=query processes; the
// query goes to the second).
// `--eap-bin` runs another checkout's `eap` (an earlier version, from `git worktree add`).
// Loopback only; every request has a timeout and each phase a deadline, so a stalled process
// costs at most `--window-seconds`. Writes benchmarks/results/query-isolation-latest.json.
// Method and results: benchmarks/query-isolation.md.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { createMigrator, createProject } from '@eap/db';
import { EAP_BIN, ensureBinaries, exited, freePort, spawnEap, startPostgres, startRedis } from '@eap/local-services';
import { probeLivezAndIngest, startQueryLoop } from './support/latency-probe.ts';
import { machineInfo } from './support/machine-info.ts';
import { createProgress } from './support/progress.ts';

const { values } = parseArgs({
  options: {
    values: { type: 'string', default: '300000' },
    requests: { type: 'string', default: '200' },
    'interval-ms': { type: 'string', default: '50' },
    'timeout-ms': { type: 'string', default: '10000' },
    'window-seconds': { type: 'string', default: '60' },
    modes: { type: 'string', default: 'all,separate' },
    'eap-bin': { type: 'string', default: EAP_BIN },
    label: { type: 'string', default: 'current' },
    out: { type: 'string', default: 'benchmarks/results/query-isolation-latest.json' },
  },
  strict: true,
});
const distinct = Number(values.values);
const requests = Number(values.requests);
const intervalMs = Number(values['interval-ms']);
const timeoutMs = Number(values['timeout-ms']);
const windowMs = Number(values['window-seconds']) * 1000;
const modes = values.modes.split(',') as ('all' | 'separate')[];
if (
  ![distinct, requests, intervalMs, timeoutMs, windowMs].every((n) => Number.isInteger(n) && n > 0) ||
  modes.some((m) => m !== 'all' && m !== 'separate')
) {
  process.stderr.write(
    'usage: node bench/query-isolation.ts [--values N] [--requests R] [--interval-ms I] [--timeout-ms T] [--window-seconds W] [--modes all,separate] [--eap-bin PATH] [--label L] [--out FILE]\n',
  );
  process.exit(2);
}

const DAY = '2026-04-01';
const QUERY = { events: ['view'], from: DAY, to: '2026-04-02', interval: 'hour', breakdown: 'ref' };

const progress = createProgress();
const binaries = await ensureBinaries();
const dir = await mkdtemp(join(tmpdir(), 'eap-bench-isolation-'));
await chmod(dir, 0o755);
const [redis, postgres] = await Promise.all([startRedis({ dataDir: join(dir, 'redis') }), startPostgres({ dataDir: join(dir, 'pg') })]);
const children: ChildProcess[] = [];

interface Api {
  url: string;
  adminUrl: string;
  child: ChildProcess & { output: () => string };
}

async function spawnApi(serve: 'all' | 'ingest' | 'query'): Promise<Api> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawnEap(
    ['api'],
    {
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: RECOMMENDED_NODE_OPTIONS.api,
      RATE_LIMIT_PER_SECOND: '0',
      QUERY_RATE_LIMIT_PER_SECOND: '0',
      // Long enough for the breakdown to finish: the point is what happens while it runs.
      QUERY_TIMEOUT_MS: '120000',
      ...(serve === 'all' ? {} : { API_SERVE: serve }),
    },
    values['eap-bin'],
  );
  children.push(child);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const deadline = performance.now() + 30_000;
  while (!(await fetch(`${adminUrl}/readyz`).catch(() => null))?.ok) {
    if (child.exitCode !== null || performance.now() > deadline)
      throw new Error(`eap api (${serve}) did not become ready:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${port}`, adminUrl, child };
}

/** SIGTERM, then SIGKILL after 20 s: whether the process honoured SIGTERM is part of the result. */
async function stopApi(api: Api): Promise<{ exited_on_sigterm: boolean; ms: number }> {
  const t0 = performance.now();
  api.child.kill('SIGTERM');
  const timer = setTimeout(() => api.child.kill('SIGKILL'), 20_000);
  const { signal } = await exited(api.child);
  clearTimeout(timer);
  return { exited_on_sigterm: signal !== 'SIGKILL', ms: Math.round(performance.now() - t0) };
}

try {
  progress.done(
    `EAP query isolation benchmark: ${distinct.toLocaleString('en')} distinct values, ${requests} requests per probe, ${values['eap-bin']}`,
  );
  await createMigrator(postgres.url).up();
  const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
  const project = await createProject(pool, 'bench-isolation');
  await pool.query('SELECT eap_ensure_event_partition($1::date)', [DAY]);
  // One event per value over the day, plus three frequent values and events without the property.
  await pool.query(
    `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at, properties)
     SELECT $1, 'qi-' || i, 'view', 'u' || (i % 20000), $2::timestamptz + (i % 86400) * interval '1 second', now(),
            CASE WHEN i % 1000 = 0 THEN '{}'::jsonb
                 WHEN i % 100 < 3 THEN jsonb_build_object('ref', 'frequent-' || (i % 100))
                 ELSE jsonb_build_object('ref', 'v-' || i) END
     FROM generate_series(1, $3) i`,
    [project.project_id, `${DAY}T00:00:00Z`, distinct],
  );
  await pool.query('ANALYZE events');
  const { rows } = await pool.query<{ n: string }>(`SELECT count(DISTINCT properties ->> 'ref') AS n FROM events WHERE project_id = $1`, [
    project.project_id,
  ]);
  await pool.end();
  progress.done(`seeded ${distinct.toLocaleString('en')} events, ${Number(rows[0]!.n).toLocaleString('en')} distinct values of ref`);

  const results: Record<string, unknown> = {};
  for (const mode of modes) {
    const ingestApi = await spawnApi(mode === 'all' ? 'all' : 'ingest');
    const queryApi = mode === 'all' ? ingestApi : await spawnApi('query');
    const probe = (deadline: number) =>
      probeLivezAndIngest({
        livezUrl: `${ingestApi.adminUrl}/livez`,
        ingestUrl: `${ingestApi.url}/v1/events`,
        writeKey: project.write_key,
        requests,
        intervalMs,
        timeoutMs,
        deadline,
      });
    progress.update(`${mode}: idle probe`);
    const idle = await probe(performance.now() + windowMs);
    progress.update(`${mode}: probe while the breakdown runs`);
    const loop = startQueryLoop(`${queryApi.url}/v1/query/trends`, project.read_key, QUERY);
    await loop.started;
    const loaded = await probe(performance.now() + windowMs);
    // The query in flight may finish (10 s at most), so the stop below measures a drain, not an abandoned request.
    const queries = await loop.stop(10_000);
    const stopped = { ingest: await stopApi(ingestApi), ...(queryApi === ingestApi ? {} : { query: await stopApi(queryApi) }) };
    results[mode] = { idle, during_query: loaded, queries, stopped };
    progress.done(
      `${mode}: livez p50/p99 ${loaded.livez.p50_ms}/${loaded.livez.p99_ms} ms (${loaded.livez.answered}/${loaded.livez.sent} answered), ingest p50/p99 ${loaded.ingest.p50_ms}/${loaded.ingest.p99_ms} ms (${loaded.ingest.answered}/${loaded.ingest.sent}); queries answered ${queries.answered}/${queries.sent}, p50 ${queries.latency.p50_ms} ms; SIGTERM honoured: ${stopped.ingest.exited_on_sigterm}`,
    );
  }

  const report = {
    label: values.label,
    date: new Date().toISOString(),
    eap_bin: values['eap-bin'],
    distinct_values: distinct,
    requests_per_probe: requests,
    request_interval_ms: intervalMs,
    request_timeout_ms: timeoutMs,
    window_ms: windowMs,
    query: QUERY,
    machine: machineInfo(binaries.postgresBin, binaries.redisServer),
    results,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${values.out}\n`);
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([redis.stop(), postgres.stop()]);
  await rm(dir, { recursive: true, force: true });
}
