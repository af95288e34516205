import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLine, EVENT_COLUMNS } from '@eap/worker';
import { streamRows } from '../support/bench-data.ts';
import type { Progress } from '../support/progress.ts';
import { cpuPer, cpuSnapshot, processTree, stealSince } from '../support/cpu-accounting.ts';
import { median } from '../support/statistics.ts';

/**
 * Baseline B: the fastest way to put the same rows into PostgreSQL — one raw COPY into an empty
 * copy of the events table with all its indexes (all three query indexes), no deduplication, no
 * Redis, no HTTP. `rounds` COPYs, each into a new empty table; the rate is their median (one
 * COPY's rate moved by a third between runs of a day), the CPU that of all rounds together.
 */
export async function copyPhase(
  databaseUrl: string,
  options: { rows: number; rounds: number; projectId: string; postgresDir: string; progress: Progress },
) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const lines = streamRows(options.rows, options.projectId).map(copyLine);
    const components = { postgres: () => processTree(options.postgresDir), load_generator: () => [process.pid] };
    const rates: number[] = [];
    const steals: number[] = [];
    let seconds = 0;
    const cpu0 = cpuSnapshot(components);
    for (let round = 1; round <= options.rounds; round++) {
      await client.query('DROP TABLE IF EXISTS bench_copy');
      await client.query('CREATE TABLE bench_copy (LIKE events INCLUDING ALL)');
      options.progress.update(`round ${round}: baseline B (raw COPY): ${options.rows} rows`);
      const start = performance.now();
      const stolen = stealSince();
      const chunks = (function* () {
        for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('');
      })();
      await pipeline(
        Readable.from(chunks),
        // The worker's own line format and column list, so both write the same rows.
        client.query(copyFrom(`COPY bench_copy (${EVENT_COLUMNS}) FROM STDIN`)),
      );
      const elapsed = (performance.now() - start) / 1000;
      steals.push(stolen());
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_copy');
      if (rows[0]!.n !== options.rows) throw new Error(`COPY stored ${rows[0]!.n} of ${options.rows} rows`);
      seconds += elapsed;
      rates.push(Math.round(options.rows / elapsed));
      options.progress.done(`round ${round}: baseline B (raw COPY): ${rates.at(-1)} rows/s, ${steals.at(-1)} % stolen`);
    }
    // The CPU of every round, including the count after each (a small part of a round).
    const cpuMsPer1000Rows = cpuPer(cpu0, cpuSnapshot(components), options.rows * options.rounds);
    return {
      rows: options.rows,
      rounds: options.rounds,
      seconds: Math.round(seconds * 100) / 100,
      rounds_rows_per_s: rates,
      rounds_steal_percent: steals,
      rows_per_s: median(rates),
      cpu_ms_per_1000_rows: cpuMsPer1000Rows,
    };
  } finally {
    await client.query('DROP TABLE IF EXISTS bench_copy').catch(() => undefined);
    await client.end();
  }
}
