import pg from 'pg';
import { createEventWriter, EVENT_COLUMNS } from '@eap/worker';
import { streamRows } from '../support/bench-data.ts';
import { cpuPer, cpuSnapshot, processTree } from '../support/cpu-accounting.ts';
import type { Progress } from '../support/progress.ts';
import { median } from '../support/statistics.ts';

/**
 * What deduplicating retries by (project, event_id) costs the write path, three ways over the
 * same batches of 1,000 new events, in alternating rounds so all see the same machine state:
 * - `direct`: the worker's writer as shipped (COPY into `event_ids` and `events`; the dedup
 *   statement only when an id was stored before, which never happens here);
 * - `dedup`: the same writer forced through the dedup statement (COPY into a temporary table,
 *   then ids into `event_ids` and only new ones into `events`), the path before `direct`;
 * - `pk_only`: the former INSERT, which relied on the former primary key of `events` (added
 *   back for its rounds).
 * PostgreSQL CPU per 1,000 events is the fairer figure on a busy machine.
 */
const PK_ONLY = `INSERT INTO events (${EVENT_COLUMNS}) SELECT ${EVENT_COLUMNS} FROM events_in
  ORDER BY project_id, event, "timestamp" ON CONFLICT DO NOTHING`;

export async function writerPhase(
  databaseUrl: string,
  options: { events: number; rounds: number; projectId: string; postgresDir: string; progress: Progress },
) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const methods = {
      direct: createEventWriter(pool).write,
      dedup: createEventWriter(pool, { direct: false }).write,
      // The former statement, through the same COPY path.
      pk_only: createEventWriter(pool, { direct: false, insert: PK_ONLY }).write,
    };
    const events = streamRows(options.events, options.projectId, 11);
    await pool.query('SELECT eap_ensure_event_partitions(current_date - 1, current_date + 1)');
    const components = { postgres: () => processTree(options.postgresDir) };
    const rates: Record<keyof typeof methods, number[]> = { direct: [], dedup: [], pk_only: [] };
    const cpu: Record<keyof typeof methods, number[]> = { direct: [], dedup: [], pk_only: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const name of Object.keys(methods) as (keyof typeof methods)[]) {
        await pool.query('DELETE FROM events WHERE project_id = $1', [options.projectId]);
        await pool.query('DELETE FROM event_ids WHERE project_id = $1', [options.projectId]);
        await pool.query('VACUUM events, event_ids');
        // The former path had the primary key (project_id, event_id, "timestamp") on events.
        if (name === 'pk_only') await pool.query('ALTER TABLE events ADD PRIMARY KEY (project_id, event_id, "timestamp")');
        options.progress.update(`writer with and without retry dedup: round ${round + 1}, ${name}`);
        const cpu0 = cpuSnapshot(components);
        const start = performance.now();
        let inserted = 0;
        for (let i = 0; i < events.length; i += 1000) inserted += (await methods[name](events.slice(i, i + 1000))).inserted;
        const seconds = (performance.now() - start) / 1000;
        if (inserted !== events.length) throw new Error(`${name} inserted ${inserted} of ${events.length}`);
        if (name === 'pk_only') await pool.query('ALTER TABLE events DROP CONSTRAINT events_pkey');
        rates[name].push(events.length / seconds);
        cpu[name].push(cpuPer(cpu0, cpuSnapshot(components), events.length).postgres ?? 0);
      }
    }
    const result = {
      events: options.events,
      rounds: options.rounds,
      direct_events_per_s: Math.round(median(rates.direct)),
      dedup_events_per_s: Math.round(median(rates.dedup)),
      pk_only_events_per_s: Math.round(median(rates.pk_only)),
      direct_postgres_cpu_ms_per_1000: Math.round(median(cpu.direct) * 10) / 10,
      dedup_postgres_cpu_ms_per_1000: Math.round(median(cpu.dedup) * 10) / 10,
      pk_only_postgres_cpu_ms_per_1000: Math.round(median(cpu.pk_only) * 10) / 10,
    };
    options.progress.done(
      `writer: ${result.direct_events_per_s} events/s direct, ${result.dedup_events_per_s} through the dedup statement, ${result.pk_only_events_per_s} without dedup; PostgreSQL CPU ${result.direct_postgres_cpu_ms_per_1000} / ${result.dedup_postgres_cpu_ms_per_1000} / ${result.pk_only_postgres_cpu_ms_per_1000} ms per 1,000`,
    );
    return result;
  } finally {
    await pool.end();
  }
}
