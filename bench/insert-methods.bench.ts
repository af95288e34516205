// Compares the two bulk paths for a worker batch, on a private PostgreSQL with durable default
// settings, same rows, alternating runs so both see the same machine state:
//   unnest: INSERT … SELECT FROM unnest($1::uuid[], …) ON CONFLICT DO NOTHING (one statement)
//   copy:   COPY into a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING (one
//           transaction): the worker's writer, services/worker/src/event-writer.ts
// Usage: node bench/insert-methods.bench.ts [events=200000] [batch=1000] [rounds=3]
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type StreamRow, streamRowOf } from '@eap/core';
import { createMigrator } from '@eap/db';
import { startPostgres } from '@eap/local-services';
import { createEventWriter, EVENT_COLUMNS, eventRow } from '@eap/worker';
import { median } from './support/statistics.ts';

const total = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 3);

function makeEvents(n: number, projectId: string): StreamRow[] {
  const names = ['page_view', 'signup', 'add_to_cart', 'purchase', 'search'];
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const t = new Date(now - (i % 3_600_000)).toISOString();
    return streamRowOf({
      project_id: projectId,
      event_id: randomUUID(),
      event: names[i % names.length]!,
      distinct_id: `user-${i % 5000}`,
      timestamp: t,
      client_timestamp: t,
      sent_at: null,
      received_at: t,
      session_id: `s-${i % 20000}`,
      properties: {
        path: `/p/${i % 300}`,
        price: (i % 97) * 1.5,
        plan: i % 3 ? 'free' : 'pro',
        tags: ['a', 'b'],
        nested: { ref: `r${i % 50}` },
      },
      context: { ip: '10.0.0.1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', library: { name: 'eap-js', version: '1.0.0' } },
    });
  });
}

// The former production path, kept here to compare against.
const INSERT_UNNEST = `
INSERT INTO events (${EVENT_COLUMNS})
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::jsonb[], $11::jsonb[], $12::boolean[])
ON CONFLICT DO NOTHING`;

function createUnnestWriter(pool: pg.Pool) {
  return {
    async write(events: StreamRow[]): Promise<{ inserted: number }> {
      const cols: (string | null)[][] = Array.from({ length: EVENT_COLUMNS.split(', ').length }, () => []);
      for (const e of events) for (const [i, v] of eventRow(e).entries()) cols[i]!.push(v);
      const result = await pool.query({ name: 'bench_unnest', text: INSERT_UNNEST, values: cols });
      return { inserted: result.rowCount ?? 0 };
    },
  };
}

async function timeRun(write: (e: StreamRow[]) => Promise<{ inserted: number }>, events: StreamRow[]): Promise<number> {
  const start = performance.now();
  let inserted = 0;
  for (let i = 0; i < events.length; i += batchSize) inserted += (await write(events.slice(i, i + batchSize))).inserted;
  const seconds = (performance.now() - start) / 1000;
  if (inserted !== events.length) throw new Error(`inserted ${inserted} of ${events.length}`);
  return events.length / seconds;
}

const dir = await mkdtemp(join(tmpdir(), 'eap-bench-'));
await chmod(dir, 0o755);
const server = await startPostgres({ dataDir: join(dir, 'pg') });
try {
  await createMigrator(server.url).up();
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  const { rows } = await pool.query("INSERT INTO projects (name) VALUES ('bench') RETURNING id");
  await pool.query('SELECT eap_ensure_event_partitions(current_date - 1, current_date + 1)');
  const events = makeEvents(total, rows[0].id);
  const methods = { unnest: createUnnestWriter(pool).write, copy: createEventWriter(pool).write };
  const results: Record<string, number[]> = { unnest: [], copy: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, write] of Object.entries(methods)) {
      await pool.query('TRUNCATE events');
      await pool.query('CHECKPOINT');
      const rate = await timeRun(write, events);
      results[name]!.push(rate);
      console.log(`round ${r + 1} ${name.padEnd(6)} ${Math.round(rate)} events/s`);
    }
  }
  const summary = {
    events: total,
    batch: batchSize,
    rounds,
    unnest_events_per_s: Math.round(median(results.unnest!)),
    copy_events_per_s: Math.round(median(results.copy!)),
  };
  console.log(
    JSON.stringify({ ...summary, ratio_copy_vs_unnest: Number((summary.copy_events_per_s / summary.unnest_events_per_s).toFixed(3)) }),
  );
  await pool.end();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
