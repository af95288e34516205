// Where PostgreSQL's CPU goes on the worker's write path: the same batches of realistic events
// (the benchmark's funnel model) written with parts of the work switched off, in alternating
// rounds, PostgreSQL CPU (postmaster and backends, from /proc) per 1,000 events:
// - `shipped`: the worker's writer (COPY into event_ids and events; rollup and persons triggers);
// - `no_persons`, `no_rollups`: one trigger disabled;
// - `no_triggers`: both disabled (ids and events only);
// - `events_only`: COPY into `events` alone, no trigger, no event_ids row: partition routing and
//   the three indexes;
// - `raw_copy`: COPY into an unpartitioned copy of `events` with the same indexes and no trigger,
//   as baseline B of `make bench`.
// Usage: node bench/write-path-parts.ts [events=100000] [rounds=3]
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StreamRow } from '@eap/core';
import { copyLine, createEventWriter, EVENT_COLUMNS } from '@eap/worker';
import { streamRows } from './support/bench-data.ts';
import { startBenchStack } from './support/bench-stack.ts';
import { cpuPer, cpuSnapshot, processTree } from './support/cpu-accounting.ts';
import { median } from './support/statistics.ts';

const total = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const BATCH = 1000;

const stack = await startBenchStack();
const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });

/** One COPY of `events` into `table`, in one transaction. */
async function copyBatch(table: string, events: readonly StreamRow[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await pipeline(Readable.from([events.map(copyLine).join('')]), client.query(copyFrom(`COPY ${table} (${EVENT_COLUMNS}) FROM STDIN`)));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

try {
  const project = await stack.createProject('bench');
  const events = streamRows(total, project.project_id, 11);
  await pool.query('SELECT eap_ensure_event_partitions(current_date - 1, current_date + 1)');
  await pool.query('CREATE TABLE events_raw (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)');
  const writer = createEventWriter(pool);
  const triggers = (on: boolean, ...names: string[]) => names.map((n) => `ALTER TABLE events ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${n}`);
  const write = (batch: readonly StreamRow[]) => writer.write(batch).then(() => undefined);
  const variants: Record<string, { off: string[]; write: (batch: readonly StreamRow[]) => Promise<void> }> = {
    shipped: { off: [], write },
    no_persons: { off: ['events_persons'], write },
    no_rollups: { off: ['events_rollup'], write },
    no_triggers: { off: ['events_persons', 'events_rollup'], write },
    events_only: { off: ['events_persons', 'events_rollup'], write: (batch) => copyBatch('events', batch) },
    raw_copy: { off: [], write: (batch) => copyBatch('events_raw', batch) },
  };
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  const postgres = () => processTree(stack.postgresDir);
  for (let round = 0; round < rounds; round++) {
    const names = Object.keys(variants);
    for (const name of round % 2 === 0 ? names : names.reverse()) {
      const variant = variants[name]!;
      await pool.query(
        'TRUNCATE events, events_raw, event_ids, event_counts_hourly, event_user_days, event_users_daily, persons, person_distinct_ids',
      );
      await pool.query('VACUUM ANALYZE');
      for (const statement of triggers(false, ...variant.off)) await pool.query(statement);
      const before = cpuSnapshot({ postgres });
      const started = performance.now();
      for (let i = 0; i < events.length; i += BATCH) await variant.write(events.slice(i, i + BATCH));
      const seconds = (performance.now() - started) / 1000;
      const per = cpuPer(before, cpuSnapshot({ postgres }), events.length).postgres ?? 0;
      for (const statement of triggers(true, ...variant.off)) await pool.query(statement);
      cpu[name]!.push(per);
      console.log(`round ${round + 1} ${name.padEnd(12)} ${Math.round(events.length / seconds)} events/s, PostgreSQL ${per} ms / 1,000`);
    }
  }
  const summary = Object.fromEntries(Object.entries(cpu).map(([name, values]) => [name, { median_ms_per_1000: median(values), values }]));
  console.log(JSON.stringify({ events: total, batch: BATCH, rounds, postgres_cpu: summary }, null, 1));
} finally {
  await pool.end();
  await stack.stop();
}
