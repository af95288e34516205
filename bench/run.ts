// `make bench` / `make bench-quick`: every figure measured in one run on this machine, next to
// the baselines it is compared with. Prints a Markdown table and writes
// benchmarks/results/latest.json. See benchmarks/README.md for the method.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { backlogPhase } from './phases/backlog.phase.ts';
import { writerPhase } from './phases/writer.phase.ts';
import { createCopyBaseline } from './phases/copy.phase.ts';
import { e2ePhase } from './phases/e2e.phase.ts';
import { e2eWithQueriesPhase } from './phases/e2e-with-queries.phase.ts';
import { ingestPhase } from './phases/ingest.phase.ts';
import { scaleOutPhase } from './phases/scale-out.phase.ts';
import { startBenchStack } from './support/bench-stack.ts';
import { machineInfo } from './support/machine-info.ts';
import { createProgress } from './support/progress.ts';
import { atLeast, atMost, below, markdownReport } from './support/report.ts';

const quick = process.argv.includes('--quick');
// bench-quick takes about 100 s all told (95 s on 2026-12-01, with the end-to-end warm-up of 2 s);
// the full run sustains the end-to-end load 60 s, in three rounds. Quick runs the scale-out at 4
// shards only and the query load without its no-query baseline, and warms each single-event server
// 2 s (99 s in all with 3 s, once the least durable ingest joined the single-event rounds).
const plan = quick
  ? {
      ingestS: 5,
      ingestHalfS: 3,
      ingestRounds: 1,
      ingestWarmUpS: 2,
      copyRows: 100_000,
      e2eS: 8,
      e2eRounds: 1,
      e2eWarmUpS: 2,
      e2eHalfS: 4,
      e2eSingleS: 5,
      backlog: 100_000,
      backlogDrainS: 10,
      largeBacklog: 5_000,
      scaleOutShards: [4],
      scaleOutS: 5,
      queriesS: 5,
      queriesBaseline: false,
    }
  : {
      ingestS: 10,
      ingestHalfS: 10,
      ingestRounds: 3,
      // An API process still spends 10-15 % more CPU per request, and several times the major
      // collections, after 10 s of load than after 30 (benchmarks/profiles.md, "Twenty-third round").
      ingestWarmUpS: 30,
      copyRows: 500_000,
      // Three rounds of 20 s, each after a round of the raw COPY, once the API and the worker have
      // had 30 s of the same load (benchmarks/README.md, "Method").
      e2eS: 20,
      e2eRounds: 3,
      e2eWarmUpS: 30,
      e2eHalfS: 30,
      e2eSingleS: 30,
      backlog: 1_000_000,
      backlogDrainS: 60,
      largeBacklog: 20_000,
      scaleOutShards: [1, 4, 16],
      scaleOutS: 15,
      queriesS: 20,
      queriesBaseline: true,
    };

const progress = createProgress();
const fmtCpu = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const startedAt = Date.now();
progress.done(`EAP benchmark, ${quick ? 'quick' : 'full'} run: starting private Redis and PostgreSQL ...`);
const stack = await startBenchStack();
try {
  const project = await stack.createProject('bench');
  const redis = new Redis(stack.redisUrl);

  const ingest = await ingestPhase(stack, {
    durationS: plan.ingestS,
    halfRateDurationS: plan.ingestHalfS,
    rounds: plan.ingestRounds,
    warmUpS: plan.ingestWarmUpS,
    writeKey: project.write_key,
    projectId: project.project_id,
    progress,
  });
  // The single-event runs leave their events in the streams: start the next phases empty.
  await redis.flushall();
  const writer = await writerPhase(stack.databaseUrl, {
    events: quick ? 50_000 : 200_000,
    rounds: quick ? 1 : 3,
    projectId: project.project_id,
    postgresDir: stack.postgresDir,
    progress,
  });
  // Baseline B runs a round before each round of the end-to-end phase, so that both see the same
  // machine: its speed drifts over minutes, and every process end to end with it.
  const copyBaseline = await createCopyBaseline(stack.databaseUrl, {
    rows: plan.copyRows,
    projectId: project.project_id,
    postgresDir: stack.postgresDir,
    progress,
  });
  let e2e: Awaited<ReturnType<typeof e2ePhase>>;
  try {
    e2e = await e2ePhase(stack, {
      durationS: plan.e2eS,
      rounds: plan.e2eRounds,
      warmUpS: plan.e2eWarmUpS,
      beforeRound: copyBaseline.round,
      halfRateDurationS: plan.e2eHalfS,
      projectId: project.project_id,
      writeKey: project.write_key,
      progress,
    });
  } finally {
    await copyBaseline.close();
  }
  const copy = copyBaseline.result();
  // Right after the end-to-end phase: the queries read its events (yesterday and today in `bench`).
  const withQueries = await e2eWithQueriesPhase(stack, {
    durationS: plan.queriesS,
    baseline: plan.queriesBaseline,
    queryProjectId: project.project_id,
    readKey: project.read_key,
    progress,
  });
  // Single events as browser and mobile SDKs send them, end to end (no half-rate run).
  const e2eSingle = await e2ePhase(stack, {
    load: 'single',
    durationS: plan.e2eSingleS,
    halfRateDurationS: 0,
    projectId: project.project_id,
    writeKey: project.write_key,
    progress,
  });
  const backlog = await backlogPhase(stack, {
    entries: plan.backlog,
    maxDrainS: plan.backlogDrainS,
    projectId: project.project_id,
    progress,
  });
  const largeBacklog = await backlogPhase(stack, {
    entries: plan.largeBacklog,
    maxDrainS: plan.backlogDrainS,
    projectId: project.project_id,
    progress,
    largest: true,
  });
  // Last: each configuration empties Redis before it starts.
  const scaleOut = await scaleOutPhase(stack, {
    configs: plan.scaleOutShards.map((shards) => ({ apis: 2, workers: 2, shards })),
    durationS: plan.scaleOutS,
    progress,
  });
  redis.disconnect();

  const ratio = (rate: number, baseline: number) => Math.round((rate / baseline) * 1000) / 1000;
  const ratios = {
    ingest_vs_fastify: ratio(ingest.ingest_single.req_per_s, ingest.baseline_fastify.req_per_s),
    e2e_vs_copy: ratio(e2e.events_per_s, copy.rows_per_s),
    /** No target: how far under the bare fastify the append before the 202 alone keeps a server. */
    bare_durable_ingest_vs_fastify: ratio(ingest.bare_durable_ingest.req_per_s, ingest.baseline_fastify.req_per_s),
  };
  const targets = [
    atLeast('ingest_vs_fastify', ratios.ingest_vs_fastify, 0.6),
    atLeast('e2e_vs_copy', ratios.e2e_vs_copy, 0.5),
    below('end-to-end p99 at 50 % of max rate (ms)', e2e.half_rate_e2e_p99_ms, 1000),
    below(`worker RSS with a ${backlog.backlog_entries}-event backlog (MiB)`, backlog.worker_rss_peak_mib, 200),
    // The memory targets are "at most 150 MiB".
    atMost(`worker RSS with a ${largeBacklog.backlog_entries}-event backlog of 30 KB events (MiB)`, largeBacklog.worker_rss_peak_mib, 150),
    atMost('API RSS at full load (MiB)', Math.max(ingest.ingest_single.api_rss_peak_mib, e2e.api_rss_peak_mib), 150),
  ];
  const machine = machineInfo(stack.binaries.postgresBin, stack.binaries.redisServer);
  const results = {
    generated_at: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    duration_s: Math.round((Date.now() - startedAt) / 1000),
    machine,
    ratios,
    baseline_fastify: ingest.baseline_fastify,
    bare_durable_ingest: ingest.bare_durable_ingest,
    baseline_copy: copy,
    writer_retry_dedup: writer,
    ingest_single: ingest.ingest_single,
    e2e_batch: e2e,
    e2e_with_queries: withQueries,
    e2e_single: e2eSingle,
    scale_out: scaleOut,
    worker_backlog: backlog,
    worker_backlog_largest_events: largeBacklog,
    targets,
  };
  mkdirSync(new URL('../benchmarks/results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../benchmarks/results/latest.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    markdownReport({
      mode: results.mode,
      machine,
      figures: [
        ['baseline A: bare fastify, req/s (64 connections)', ingest.baseline_fastify.req_per_s],
        ['least durable ingest (append before 202, nothing else), req/s (64 connections)', ingest.bare_durable_ingest.req_per_s],
        ['EAP single-event ingest, req/s (64 connections)', ingest.ingest_single.req_per_s],
        ['EAP single-event p50 / p99 (ms)', `${ingest.ingest_single.p50_ms} / ${ingest.ingest_single.p99_ms}`],
        [`EAP single-event p99 at 50 % (${ingest.ingest_single.half_rate_req_per_s} req/s, ms)`, ingest.ingest_single.half_rate_p99_ms],
        [`baseline B: raw COPY, rows/s (median of ${copy.rounds}: ${copy.rounds_rows_per_s.join(', ')})`, copy.rows_per_s],
        [
          'worker writer, events/s: direct / dedup statement / primary key only',
          `${writer.direct_events_per_s} / ${writer.dedup_events_per_s} / ${writer.pk_only_events_per_s}`,
        ],
        [
          'worker writer, PostgreSQL CPU ms per 1,000 events: direct / dedup statement / primary key only',
          `${writer.direct_postgres_cpu_ms_per_1000} / ${writer.dedup_postgres_cpu_ms_per_1000} / ${writer.pk_only_postgres_cpu_ms_per_1000}`,
        ],
        ['EAP end to end (API + worker, batches of 100), events/s committed', e2e.events_per_s],
        ['EAP end-to-end latency p50 / p99 at max rate (ms)', `${e2e.e2e_p50_ms} / ${e2e.e2e_p99_ms}`],
        [
          `EAP end-to-end latency p50 / p99 at 50 % (${e2e.half_rate_events_per_s} events/s, ms)`,
          `${e2e.half_rate_e2e_p50_ms} / ${e2e.half_rate_e2e_p99_ms}`,
        ],
        ['peak backlog (entries)', e2e.peak_backlog],
        [
          `EAP end to end with single events (${e2eSingle.connections} connections, ${e2eSingle.duration_s} s), events/s committed; e2e p50 / p99 (ms)`,
          `${e2eSingle.events_per_s}; ${e2eSingle.e2e_p50_ms} / ${e2eSingle.e2e_p99_ms}`,
        ],
        ['CPU ms per 1,000 events: EAP end to end with single events', fmtCpu(e2eSingle.cpu_ms_per_1000_events)],
        [
          `EAP end to end with a trends and a funnel query once a second each (${withQueries.duration_s} s), events/s: with / without queries`,
          `${withQueries.events_per_s} / ${withQueries.events_per_s_without_queries ?? 'not run'}`,
        ],
        [
          `queries during that load (yesterday + today, ${withQueries.queried_project_events} events): p50 / p99 (ms), errors`,
          `trends ${withQueries.trends?.p50_ms} / ${withQueries.trends?.p99_ms}, ${withQueries.trends?.errors}; funnel ${withQueries.funnel?.p50_ms} / ${withQueries.funnel?.p99_ms}, ${withQueries.funnel?.errors}`,
        ],
        [
          'the same queries once without ingest load (ms)',
          `trends ${withQueries.trends_without_load_ms}; funnel ${withQueries.funnel_without_load_ms}`,
        ],
        ['CPU ms per 1,000 events: EAP end to end with queries', fmtCpu(withQueries.cpu_ms_per_1000_events)],
        ...scaleOut.flatMap((s): [string, string | number][] => [
          [`scale-out ${s.apis} APIs + ${s.workers} workers, ${s.shards} shards (${s.duration_s} s): events/s committed`, s.events_per_s],
          [`scale-out ${s.shards} shards: CPU ms per 1,000 events`, fmtCpu(s.cpu_ms_per_1000_events)],
          [`scale-out ${s.shards} shards: busy cores (CPU s per s; machine = every process on it)`, fmtCpu(s.busy_cores)],
        ]),
        ['API RSS peak (MiB)', Math.max(ingest.ingest_single.api_rss_peak_mib, e2e.api_rss_peak_mib)],
        ['worker RSS peak under load (MiB)', e2e.worker_rss_peak_mib],
        [`worker alone draining a ${backlog.backlog_entries}-event backlog, events/s`, backlog.drain_events_per_s],
        [
          `worker draining ${largeBacklog.backlog_entries} events of 30 KB: events/s, RSS peak (MiB)`,
          `${largeBacklog.drain_events_per_s}, ${largeBacklog.worker_rss_peak_mib}`,
        ],
        ['CPU ms per 1,000 requests: bare fastify (server / load generator)', fmtCpu(ingest.baseline_fastify.cpu_ms_per_1000_requests)],
        ['CPU ms per 1,000 requests: least durable ingest', fmtCpu(ingest.bare_durable_ingest.cpu_ms_per_1000_requests)],
        ['CPU ms per 1,000 requests: EAP single-event', fmtCpu(ingest.ingest_single.cpu_ms_per_1000_requests)],
        ['CPU ms per 1,000 rows: raw COPY', fmtCpu(copy.cpu_ms_per_1000_rows)],
        ['CPU ms per 1,000 events: EAP end to end', fmtCpu(e2e.cpu_ms_per_1000_events)],
        [
          'CPU time stolen by the hypervisor, %: bare fastify rounds / least durable ingest rounds / EAP single-event rounds / raw COPY rounds / end to end',
          `${ingest.baseline_fastify.rounds_steal_percent.join(', ')} / ${ingest.bare_durable_ingest.rounds_steal_percent.join(', ')} / ${ingest.ingest_single.rounds_steal_percent.join(', ')} / ${copy.rounds_steal_percent.join(', ')} / ${e2e.steal_percent}`,
        ],
        ['ratio ingest_vs_fastify', ratios.ingest_vs_fastify],
        ['ratio e2e_vs_copy', ratios.e2e_vs_copy],
        ['ratio bare_durable_ingest_vs_fastify (no target)', ratios.bare_durable_ingest_vs_fastify],
      ],
      targets,
    }),
  );
  progress.done(`done in ${results.duration_s} s; results in benchmarks/results/latest.json`);
} finally {
  await stack.stop();
}
