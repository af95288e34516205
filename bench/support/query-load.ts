import pg from 'pg';
import { EVENT_COLUMNS } from '@eap/worker';
import { copyEventLines } from './copy-event-lines.ts';
import type { Progress } from './progress.ts';
import { type QueryDataOptions, queryDataLines } from './query-data.ts';

/**
 * Loads the synthetic events straight into `events` with COPY (not through the API and the
 * worker: 10 million events through the pipeline would take ~10 minutes and measure ingest, not
 * queries). The rollup trigger runs for every COPY statement exactly as for the worker's
 * inserts, so the rollups are the ones a real pipeline would have built. Then VACUUM ANALYZE, as
 * autovacuum would eventually do, so the planner has statistics and index-only scans work.
 */
export async function loadQueryData(databaseUrl: string, options: QueryDataOptions, progress: Progress) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const lastDay = new Date(options.start.getTime() + (options.days - 1) * 86_400_000);
    await client.query('SELECT eap_ensure_event_partitions($1::date, $2::date)', [
      options.start.toISOString().slice(0, 10),
      lastDay.toISOString().slice(0, 10),
    ]);
    const started = performance.now();
    const loaded = await copyEventLines(client, EVENT_COLUMNS, queryDataLines(options), (loaded) => {
      const seconds = (performance.now() - started) / 1000;
      progress.update(
        `loading: ${loaded.toLocaleString('en')} of ${options.events.toLocaleString('en')} events, ${Math.round(loaded / seconds)} events/s`,
      );
    });
    const loadSeconds = (performance.now() - started) / 1000;
    progress.done(`loaded ${loaded.toLocaleString('en')} events in ${Math.round(loadSeconds)} s (COPY, rollup trigger included)`);
    const vacuumStarted = performance.now();
    progress.update('VACUUM ANALYZE ...');
    await client.query('VACUUM ANALYZE events');
    await client.query('VACUUM ANALYZE event_counts_hourly');
    await client.query('VACUUM ANALYZE event_user_days');
    const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
    progress.done(`VACUUM ANALYZE in ${Math.round(vacuumSeconds)} s`);
    const { rows } = await client.query<{ events: string; rollup_hours: string; rollup_user_days: string; size: string }>(
      `SELECT (SELECT count(*) FROM events) AS events,
              (SELECT count(*) FROM event_counts_hourly) AS rollup_hours,
              (SELECT count(*) FROM event_user_days) AS rollup_user_days,
              pg_size_pretty((SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'events'::regclass)) AS size`,
    );
    const r = rows[0]!;
    return {
      events: Number(r.events),
      load_seconds: Math.round(loadSeconds),
      load_events_per_s: Math.round(loaded / loadSeconds),
      vacuum_analyze_seconds: Math.round(vacuumSeconds),
      events_table_size: r.size,
      rollup_hour_rows: Number(r.rollup_hours),
      rollup_user_day_rows: Number(r.rollup_user_days),
    };
  } finally {
    await client.end();
  }
}
