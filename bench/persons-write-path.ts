// What the persons trigger (migration 0005) costs the worker's write path: the worker's own
// event writer (services/worker/src/event-writer.ts) COPYs the same events, batch by batch, into
// a private PostgreSQL with the trigger enabled and disabled, alternating, and the CPU seconds of
// every PostgreSQL process (postmaster and backends, /proc) are counted per 1,000 events.
// Scenarios: `no_persons` (no person rows exist), `persons_no_ops` (every user has a person, no
// event carries a person operation: the one grouped statement), `ops_1pct` (1 % of events carry
// $set). The machine is shared: `machine_busy_s` shows how busy it was meanwhile.
// Usage: node bench/persons-write-path.ts [events=200000] [batch=1000] [rounds=3]
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type StreamRow, streamRowOf } from '@eap/core';
import { createMigrator } from '@eap/db';
import { startPostgres } from '@eap/local-services';
import { createEventWriter } from '@eap/worker';
import { cpuPer, cpuSnapshot, machineBusySeconds, processTree } from './support/cpu-accounting.ts';
import { median } from './support/statistics.ts';

const total = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 3);
const USERS = 5000;

function makeEvents(n: number, projectId: string, opsEvery: number): StreamRow[] {
  const names = ['page_view', 'signup', 'add_to_cart', 'purchase', 'search'];
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const t = new Date(now - (i % 3_600_000)).toISOString();
    const properties: Record<string, unknown> = {
      path: `/p/${i % 300}`,
      price: (i % 97) * 1.5,
      plan: i % 3 ? 'free' : 'pro',
      tags: ['a', 'b'],
      nested: { ref: `r${i % 50}` },
    };
    if (opsEvery > 0 && i % opsEvery === 0) properties.$set = { plan: properties.plan, seen: i };
    return streamRowOf({
      project_id: projectId,
      event_id: randomUUID(),
      event: names[i % names.length]!,
      distinct_id: `user-${i % USERS}`,
      timestamp: t,
      client_timestamp: t,
      sent_at: null,
      received_at: t,
      session_id: `s-${i % 20000}`,
      properties,
      context: { ip: '10.0.0.1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', library: { name: 'eap-js', version: '1.0.0' } },
    });
  });
}

const dir = await mkdtemp(join(tmpdir(), 'eap-bench-'));
await chmod(dir, 0o755);
const dataDir = join(dir, 'pg');
const server = await startPostgres({ dataDir });
try {
  await createMigrator(server.url).up();
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  const { rows } = await pool.query("INSERT INTO projects (name) VALUES ('bench') RETURNING id");
  const projectId: string = rows[0].id;
  await pool.query('SELECT eap_ensure_event_partitions(current_date - 1, current_date + 1)');
  const write = createEventWriter(pool).write;
  const postgres = () => processTree(dataDir);
  const scenarios = { no_persons: 0, persons_no_ops: 0, ops_1pct: 100 } as const;
  const results: Record<string, { on: number[]; off: number[]; busy: number[] }> = {};
  for (const [scenario, opsEvery] of Object.entries(scenarios)) {
    const events = makeEvents(total, projectId, opsEvery);
    results[scenario] = { on: [], off: [], busy: [] };
    for (let r = 0; r < rounds; r++) {
      for (const trigger of r % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
        await pool.query(
          'TRUNCATE events, event_ids, event_counts_hourly, event_user_days, event_users_daily, persons, person_distinct_ids',
        );
        if (scenario !== 'no_persons') {
          // Every user has a person (as after their first $set).
          await pool.query(
            `WITH p AS (INSERT INTO persons (project_id, first_seen, last_seen, properties)
                        SELECT $1, now() - interval '1 day', now() - interval '1 day', '{"plan":"free"}' FROM generate_series(1, $2) RETURNING id),
                  n AS (SELECT id, row_number() OVER () - 1 AS i FROM p)
             INSERT INTO person_distinct_ids (project_id, distinct_id, person_id) SELECT $1, 'user-' || i, id FROM n`,
            [projectId, USERS],
          );
        }
        await pool.query(`ALTER TABLE events ${trigger === 'on' ? 'ENABLE' : 'DISABLE'} TRIGGER events_persons`);
        await pool.query('VACUUM ANALYZE');
        await pool.query('CHECKPOINT');
        const before = cpuSnapshot({ postgres });
        const busyBefore = machineBusySeconds();
        for (let i = 0; i < events.length; i += batchSize) await write(events.slice(i, i + batchSize));
        const per = cpuPer(before, cpuSnapshot({ postgres }), events.length).postgres!;
        const busy = machineBusySeconds() - busyBefore;
        results[scenario]![trigger as 'on' | 'off'].push(per);
        results[scenario]!.busy.push(busy);
        console.log(
          `${scenario} round ${r + 1} trigger ${trigger.padEnd(3)} ${per} ms PostgreSQL CPU / 1000 events (machine busy ${busy.toFixed(1)} s)`,
        );
      }
    }
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        on_ms_per_1000: median(r.on),
        off_ms_per_1000: median(r.off),
        on: r.on,
        off: r.off,
        delta_ms_per_1000: Number((median(r.on) - median(r.off)).toFixed(1)),
      },
    ]),
  );
  console.log(JSON.stringify({ events: total, batch: batchSize, rounds, ...summary }, null, 1));
  await pool.end();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
