import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLine, EVENT_COLUMNS } from '@eap/worker';
import { streamRows } from '../support/bench-data.ts';
import type { Progress } from '../support/progress.ts';
import { addCpuBetween, cpuPer, cpuSnapshot, processTree, stealSince } from '../support/cpu-accounting.ts';
import { median } from '../support/statistics.ts';

type CopyOptions = { rows: number; projectId: string; postgresDir: string; progress: Progress };

/**
 * Baseline B: the fastest way to put the same rows into PostgreSQL — one raw COPY into an empty
 * copy of the events table with all its indexes (all three query indexes), no deduplication, no
 * Redis, no HTTP. Each `round()` COPYs the rows into a new empty table, so the rounds can be run
 * between the rounds of what is compared with them (`make bench` runs one before each round of
 * the end-to-end phase). `result()`: the rate is the rounds' median (one COPY's rate moved by a
 * third between runs of a day), the CPU that of all rounds together. `close()` drops the table.
 */
export async function createCopyBaseline(databaseUrl: string, options: CopyOptions) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  // The COPY text, made once, in chunks of 1,000 lines: Buffers, outside the heap of this process,
  // which also generates the end-to-end load between the rounds.
  const lines = streamRows(options.rows, options.projectId).map(copyLine);
  const chunks: Buffer[] = [];
  for (let i = 0; i < lines.length; i += 1000) chunks.push(Buffer.from(lines.slice(i, i + 1000).join('')));
  lines.length = 0;
  const components = { postgres: () => processTree(options.postgresDir), load_generator: () => [process.pid] };
  const rates: number[] = [];
  const steals: number[] = [];
  const cpuSeconds: Record<string, number> = {};
  let seconds = 0;
  return {
    async round(): Promise<void> {
      const round = rates.length + 1;
      const cpu0 = cpuSnapshot(components);
      await client.query('DROP TABLE IF EXISTS bench_copy');
      await client.query('CREATE TABLE bench_copy (LIKE events INCLUDING ALL)');
      options.progress.update(`round ${round}: baseline B (raw COPY): ${options.rows} rows`);
      const start = performance.now();
      const stolen = stealSince();
      await pipeline(
        Readable.from(chunks),
        // The worker's own line format and column list, so both write the same rows.
        client.query(copyFrom(`COPY bench_copy (${EVENT_COLUMNS}) FROM STDIN`)),
      );
      const elapsed = (performance.now() - start) / 1000;
      steals.push(stolen());
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_copy');
      if (rows[0]!.n !== options.rows) throw new Error(`COPY stored ${rows[0]!.n} of ${options.rows} rows`);
      // The CPU of the round, including the count after it (a small part of a round).
      addCpuBetween(cpuSeconds, cpu0, cpuSnapshot(components));
      seconds += elapsed;
      rates.push(Math.round(options.rows / elapsed));
      options.progress.done(`round ${round}: baseline B (raw COPY): ${rates.at(-1)} rows/s, ${steals.at(-1)} % stolen`);
    },
    result() {
      return {
        rows: options.rows,
        rounds: rates.length,
        seconds: Math.round(seconds * 100) / 100,
        rounds_rows_per_s: rates,
        rounds_steal_percent: steals,
        rows_per_s: median(rates),
        cpu_ms_per_1000_rows: cpuPer({}, cpuSeconds, options.rows * rates.length),
      };
    },
    async close(): Promise<void> {
      await client.query('DROP TABLE IF EXISTS bench_copy').catch(() => undefined);
      await client.end();
    },
  };
}

/** Baseline B on its own: `rounds` COPYs one after the other. */
export async function copyPhase(databaseUrl: string, options: CopyOptions & { rounds: number }) {
  const baseline = await createCopyBaseline(databaseUrl, options);
  try {
    for (let round = 1; round <= options.rounds; round++) await baseline.round();
    return baseline.result();
  } finally {
    await baseline.close();
  }
}
