import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLine, EVENT_COLUMNS } from '@eap/worker';
import { streamRows } from '../support/bench-data.ts';
import type { Progress } from '../support/progress.ts';
import { cpuPer, cpuSnapshot, processTree } from '../support/cpu-accounting.ts';

/**
 * Baseline B: the fastest way to put the same rows into PostgreSQL — one raw COPY into an empty
 * copy of the events table with all its indexes (primary key and both query indexes), no
 * deduplication, no Redis, no HTTP.
 */
export async function copyPhase(
  databaseUrl: string,
  options: { rows: number; projectId: string; postgresDir: string; progress: Progress },
) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_copy');
    await client.query('CREATE TABLE bench_copy (LIKE events INCLUDING ALL)');
    const lines = streamRows(options.rows, options.projectId).map(copyLine);
    options.progress.update(`baseline B (raw COPY): ${options.rows} rows`);
    const components = { postgres: () => processTree(options.postgresDir), load_generator: () => [process.pid] };
    const cpu0 = cpuSnapshot(components);
    const start = performance.now();
    const chunks = (function* () {
      for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('');
    })();
    await pipeline(
      Readable.from(chunks),
      // The worker's own line format and column list, so both write the same rows.
      client.query(copyFrom(`COPY bench_copy (${EVENT_COLUMNS}) FROM STDIN`)),
    );
    const seconds = (performance.now() - start) / 1000;
    const cpuMsPer1000Rows = cpuPer(cpu0, cpuSnapshot(components), options.rows);
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_copy');
    if (rows[0]!.n !== options.rows) throw new Error(`COPY stored ${rows[0]!.n} of ${options.rows} rows`);
    const rate = Math.round(options.rows / seconds);
    options.progress.done(`baseline B (raw COPY): ${rate} rows/s`);
    return { rows: options.rows, seconds: Math.round(seconds * 100) / 100, rows_per_s: rate, cpu_ms_per_1000_rows: cpuMsPer1000Rows };
  } finally {
    await client.query('DROP TABLE IF EXISTS bench_copy').catch(() => undefined);
    await client.end();
  }
}
