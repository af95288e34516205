import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Rows per COPY statement: the rollup and persons triggers read each statement's rows in one pass. */
const ROWS_PER_COPY = 200_000;

/**
 * Loads COPY text lines (one event each, `columns` in order) straight into `events`, 200,000 rows
 * per COPY statement, sent in pieces of 2,000 lines. Calls `onProgress` with the rows loaded so far
 * after each statement; returns how many rows were loaded.
 */
export async function copyEventLines(
  client: pg.Client,
  columns: string,
  lines: Iterator<string>,
  onProgress: (loaded: number) => void,
): Promise<number> {
  let loaded = 0;
  for (;;) {
    const chunk: string[] = [];
    for (let i = 0; i < ROWS_PER_COPY; i++) {
      const next = lines.next();
      if (next.done) break;
      chunk.push(next.value);
    }
    if (chunk.length === 0) return loaded;
    const pieces = (function* () {
      for (let i = 0; i < chunk.length; i += 2000) yield chunk.slice(i, i + 2000).join('');
    })();
    await pipeline(Readable.from(pieces), client.query(copyFrom(`COPY events (${columns}) FROM STDIN`)));
    loaded += chunk.length;
    onProgress(loaded);
  }
}
