import pg from 'pg';
import { createEventWriter } from '@eap/worker';
import { streamRows } from './bench-data.ts';
import { cpuPer, cpuSnapshot, processTree } from './cpu-accounting.ts';
import { FUNNEL_INDEX_VARIANTS, type FunnelIndexVariant, funnelIndexes } from './funnel-indexes.ts';
import type { Progress } from './progress.ts';
import { median } from './statistics.ts';

/**
 * What each funnel index variant costs the worker's writer: in a database of its own (migrated,
 * empty), the funnel-key index is replaced by the variant's, then `events` batches of 1,000 go
 * through the worker's writer (COPY, dedup, insert, rollup and persons triggers). Variants
 * alternate round by round, each round starting from empty, vacuumed tables, as in the writer
 * phase of `make bench`. Returns events/s and PostgreSQL CPU ms per 1,000 events (medians).
 */
export async function indexWriteCost(
  databaseUrl: string,
  options: {
    variants: readonly FunnelIndexVariant[];
    events: number;
    rounds: number;
    projectId: string;
    postgresDir: string;
    progress: Progress;
  },
) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const writer = createEventWriter(pool);
    const events = streamRows(options.events, options.projectId, 11);
    await pool.query('SELECT eap_ensure_event_partitions(current_date - 1, current_date + 1)');
    const components = { postgres: () => processTree(options.postgresDir) };
    const rates = new Map<FunnelIndexVariant, number[]>(options.variants.map((v) => [v, []]));
    const cpu = new Map<FunnelIndexVariant, number[]>(options.variants.map((v) => [v, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const variant of options.variants) {
        await pool.query('DELETE FROM events');
        await pool.query('DELETE FROM event_ids');
        for (const name of (await funnelIndexes(pool)).keys()) await pool.query(`DROP INDEX ${name}`);
        await pool.query(`CREATE INDEX funnel_write_idx ON events USING btree ${FUNNEL_INDEX_VARIANTS[variant]}`);
        await pool.query('VACUUM events, event_ids');
        options.progress.update(`writer: round ${round + 1}, index ${variant}`);
        const cpu0 = cpuSnapshot(components);
        const start = performance.now();
        for (let i = 0; i < events.length; i += 1000) await writer.write(events.slice(i, i + 1000));
        const seconds = (performance.now() - start) / 1000;
        rates.get(variant)!.push(events.length / seconds);
        cpu.get(variant)!.push(cpuPer(cpu0, cpuSnapshot(components), events.length).postgres ?? 0);
      }
    }
    return Object.fromEntries(
      options.variants.map((v) => [
        v,
        {
          events_per_s: Math.round(median(rates.get(v)!)),
          postgres_cpu_ms_per_1000: Math.round(median(cpu.get(v)!) * 10) / 10,
          rounds_events_per_s: rates.get(v)!.map(Math.round),
        },
      ]),
    );
  } finally {
    await pool.end();
  }
}
