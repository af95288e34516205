import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { COPY_ESCAPES, rowContextJson, rowHasContext, rowPropertiesJson, type StreamRow } from '@eap/core';

export const COLUMNS =
  'project_id, event_id, event, distinct_id, "timestamp", client_timestamp, sent_at, received_at, session_id, properties, context, is_bot';

/** The letter after the backslash for each byte COPY escapes (0 for the others). */
const ESCAPED_AS = new Uint8Array(256);
for (const [byte, letter] of COPY_ESCAPES) ESCAPED_AS[byte] = letter;
const BACKSLASH = 0x5c;
/** Any character COPY escapes, written as `\xNN` from COPY_ESCAPES. */
const NEEDS_ESCAPE = new RegExp(`[${COPY_ESCAPES.map(([byte]) => `\\x${byte.toString(16).padStart(2, '0')}`).join('')}]`);
const NEEDS_ESCAPES = new RegExp(NEEDS_ESCAPE.source, 'g');
const escapeChar = (c: string) => `\\${String.fromCharCode(ESCAPED_AS[c.charCodeAt(0)]!)}`;

/** Escapes one value for COPY's text format (`\N` is NULL). */
export function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  // Most values need nothing: test natively before rewriting.
  return NEEDS_ESCAPE.test(value) ? value.replace(NEEDS_ESCAPES, escapeChar) : value;
}

/** The column values of one event, in the order of `COLUMNS`. */
export function eventRow(e: StreamRow): (string | null)[] {
  return [
    e.project_id,
    e.event_id,
    e.event,
    e.distinct_id,
    e.timestamp,
    e.client_timestamp,
    e.sent_at,
    e.received_at,
    e.session_id,
    rowPropertiesJson(e),
    rowContextJson(e),
    e.is_bot === true ? 't' : 'f',
  ];
}

/** One event as a line of COPY text (benchmarks and tests; the writer writes lines with eventCopyChunks). */
export function copyLine(e: StreamRow): string {
  return `${eventRow(e).map(copyValue).join('\t')}\n`;
}

/** Bytes of COPY text per chunk written to PostgreSQL. */
const COPY_CHUNK_BYTES = 64 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/** A Buffer of at least `bytes` for COPY text. */
export type ChunkSource = (bytes: number) => Buffer;
const allocateChunk: ChunkSource = (bytes) => Buffer.allocUnsafe(bytes);
const EMPTY = Buffer.alloc(0);

/** Chunks a pool keeps for the next COPY: the default WORKER_BYTES_IN_FLIGHT (3 MiB) of them. */
const POOLED_CHUNKS = 48;

/**
 * Chunks of COPY_CHUNK_BYTES kept from one COPY for the next. Each batch's COPY text is about
 * its data's size, and chunks made anew for each batch were the worker's largest allocations
 * outside its heap, which V8 frees only when it collects the objects holding them: with the
 * largest events, tens of MiB of them waited for a collection (benchmarks/profiles.md,
 * "Twenty-fifth round"). A COPY takes chunks from the pool and gives them back only once it has
 * succeeded, when PostgreSQL has read every byte of them; a failed COPY's chunks are dropped.
 */
export function createChunkPool(most: number = POOLED_CHUNKS) {
  const free: Buffer[] = [];
  return {
    /** The chunks of one COPY: where it takes them, and how it gives them back after success. */
    lease(): { newChunk: ChunkSource; giveBack: () => void } {
      const taken: Buffer[] = [];
      return {
        newChunk(bytes) {
          if (bytes > COPY_CHUNK_BYTES) return Buffer.allocUnsafe(bytes);
          const chunk = free.pop() ?? Buffer.allocUnsafe(COPY_CHUNK_BYTES);
          taken.push(chunk);
          return chunk;
        },
        giveBack() {
          for (const chunk of taken.splice(0)) if (free.length < most) free.push(chunk);
        },
      };
    },
  };
}

/** One id of `event_ids` as a line of COPY text (`EVENT_ID_COLUMNS`). */
function eventIdLine(e: StreamRow): string {
  return `${copyValue(e.project_id)}\t${copyValue(e.event_id)}\n`;
}
/** The key alone: the table's "timestamp" is read by nothing and left NULL (migration 0008). */
const EVENT_ID_COLUMNS = 'project_id, event_id';

/**
 * COPY text in Buffers of whole lines, at most `chunkBytes` each (or one line, when a line is
 * longer), each line encoded into its Buffer as soon as it is made and the Buffers made as the
 * stream asks for them. Joining a batch into one string held the text of the whole batch two or
 * three times over (lines, the joined string, its Buffer) until the write ended: with the largest
 * events, megabytes per batch that only a full garbage collection frees. Joining lines into chunk
 * strings still copied every line once more on the heap (benchmarks/profiles.md, "Tenth change").
 */
export function* copyChunks<T>(
  rows: readonly T[],
  line: (row: T) => string,
  chunkBytes: number = COPY_CHUNK_BYTES,
  newChunk: ChunkSource = allocateChunk,
): Generator<Buffer> {
  const filler = new ChunkFiller(chunkBytes, newChunk);
  // By index: `for…of` made an iterator result per row inside the generator.
  for (let i = 0; i < rows.length; i++) {
    const text = line(rows[i]!);
    const full = filler.room(text, 0);
    if (full) yield full;
    filler.used += filler.chunk.write(text, filler.used);
  }
  const rest = filler.rest();
  if (rest) yield rest;
}

/** The chunk being filled with COPY text: whole lines, at most `chunkBytes` (or one longer line). */
class ChunkFiller {
  chunk: Buffer = EMPTY;
  used = 0;
  readonly #chunkBytes: number;
  readonly #newChunk: ChunkSource;
  constructor(chunkBytes: number, newChunk: ChunkSource) {
    this.#chunkBytes = chunkBytes;
    this.#newChunk = newChunk;
  }

  /**
   * Makes room for `text` and `extra` bytes after it, in a new chunk when they do not fit in this
   * one; returns the chunk filled until then, to send. The text's exact size is only worked out
   * when its worst case would not fit.
   */
  room(text: string, extra: number): Buffer | undefined {
    if (this.used + text.length * MAX_UTF8_BYTES_PER_UNIT + extra <= this.chunk.length) return undefined;
    const bytes = Buffer.byteLength(text) + extra;
    if (this.used + bytes <= this.chunk.length) return undefined;
    const full = this.rest();
    this.chunk = this.#newChunk(Math.max(this.#chunkBytes, bytes));
    this.used = 0;
    return full;
  }

  /** What the chunk holds so far, if anything. */
  rest(): Buffer | undefined {
    return this.used > 0 ? this.chunk.subarray(0, this.used) : undefined;
  }
}

/**
 * The columns of `eventRow` before the properties, as COPY text, ending with a tab. Joined, not a
 * template: a template of eighteen pieces is a rope that the chunk's write then flattens, about
 * twice the garbage per event (benchmarks/profiles.md, "Twenty-sixth round").
 */
export function headColumns(e: StreamRow): string {
  return [
    copyValue(e.project_id),
    copyValue(e.event_id),
    copyValue(e.event),
    copyValue(e.distinct_id),
    copyValue(e.timestamp),
    copyValue(e.client_timestamp),
    copyValue(e.sent_at),
    copyValue(e.received_at),
    copyValue(e.session_id),
    '',
  ].join('\t');
}

const TAB = 0x09;
const LINE_FEED = 0x0a;

/**
 * Copies `source[start, end)` into `chunk` at `at` as COPY text, escaping what COPY escapes when
 * `escapes` says there is any; returns where the copy ends. Most JSON holds nothing to escape and
 * is copied as it is.
 */
function writeEscaped(source: Buffer, start: number, end: number, escapes: boolean, chunk: Buffer, at: number): number {
  if (!escapes) return at + source.copy(chunk, at, start, end);
  let out = at;
  for (let i = start; i < end; i++) {
    const byte = source[i]!;
    const letter = ESCAPED_AS[byte]!;
    if (letter === 0) chunk[out++] = byte;
    else {
      chunk[out++] = BACKSLASH;
      chunk[out++] = letter;
    }
  }
  return out;
}

/**
 * The COPY text of `rows` (the columns of `eventRow`) in Buffers of whole lines, as copyChunks
 * makes them. The head's columns are made as text; the properties and context are copied from the
 * bytes they came in, escaped only when they need it: no string of them is made, decoded or
 * encoded (benchmarks/profiles.md, "Twenty-fifth round").
 */
export function* eventCopyChunks(
  rows: readonly StreamRow[],
  chunkBytes: number = COPY_CHUNK_BYTES,
  newChunk: ChunkSource = allocateChunk,
): Generator<Buffer> {
  const filler = new ChunkFiller(chunkBytes, newChunk);
  // By index, as in copyChunks.
  for (let i = 0; i < rows.length; i++) {
    const e = rows[i]!;
    const head = headColumns(e);
    // The JSON's bytes, doubled at worst when escaped; `\t`, `\N`, `\t`, the flag and `\n` follow.
    const full = filler.room(head, (e.jsonEscapes ? 2 : 1) * (e.jsonEnd - e.jsonStart) + 6);
    if (full) yield full;
    const { chunk } = filler;
    let used = filler.used + chunk.write(head, filler.used);
    used = writeEscaped(e.json, e.jsonStart, e.contextStart - 1, e.jsonEscapes, chunk, used);
    chunk[used++] = TAB;
    if (rowHasContext(e)) used = writeEscaped(e.json, e.contextStart, e.jsonEnd, e.jsonEscapes, chunk, used);
    else used += chunk.write('\\N', used, 'latin1');
    chunk[used++] = TAB;
    chunk[used++] = e.is_bot === true ? 0x74 : 0x66;
    chunk[used++] = LINE_FEED;
    filler.used = used;
  }
  const rest = filler.rest();
  if (rest) yield rest;
}

/**
 * Streams `chunks` into `COPY table (columns) FROM STDIN` on `client`, making each chunk only when
 * the connection has taken the one before. Written by hand rather than with `pipeline`, which
 * made an AbortError (its stack trace included) at the end of every COPY and drove the chunks
 * through an async iterator: at 400 single events a second the worker spent a quarter less CPU
 * without it (benchmarks/profiles.md, "Nineteenth round"). Rejects with the COPY's error, or with
 * the error of a chunk that could not be made, after ending the COPY (CopyFail) so that the
 * connection can roll back.
 */
export async function copyInto(client: pg.PoolClient, table: string, columns: string, chunks: Iterable<Buffer>): Promise<void> {
  const copy = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`));
  // Settles with the COPY, whenever its error comes: raced while writing, awaited at the end.
  const done = finished(copy);
  const source = chunks[Symbol.iterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = source.next();
    } catch (error) {
      copy.destroy(error as Error);
      await done.catch(() => undefined);
      throw error;
    }
    if (next.done) break;
    if (!copy.write(next.value)) await Promise.race([once(copy, 'drain'), done]);
  }
  copy.end();
  await done;
}

/** Orders events by (project, event_id), the key of `event_ids`, so writers lock ids in one order. */
function byProjectEventId(a: StreamRow, b: StreamRow): number {
  if (a.project_id !== b.project_id) return a.project_id < b.project_id ? -1 : 1;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}

/** Orders events by project, event name and time (see createEventWriter). */
function byProjectEventTime(a: StreamRow, b: StreamRow): number {
  if (a.project_id !== b.project_id) return a.project_id < b.project_id ? -1 : 1;
  if (a.event !== b.event) return a.event < b.event ? -1 : 1;
  return a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0;
}

/**
 * Keeps the events whose (project, event_id) was not stored in the dedup window: their ids go
 * into `event_ids`, and the first copy of each by time into `events`. A retry is skipped whatever
 * time it carries (another sent_at, another receive time), and so is a redelivered entry.
 * `event_ids` is the only unique index on this path.
 */
const WRITE_NEW_EVENTS = `
  WITH first_copies AS (
    SELECT DISTINCT ON (project_id, event_id) ${COLUMNS} FROM events_in
    ORDER BY project_id, event_id, "timestamp"
  ), new_ids AS (
    INSERT INTO event_ids (${EVENT_ID_COLUMNS})
    SELECT ${EVENT_ID_COLUMNS} FROM first_copies
    ON CONFLICT DO NOTHING
    RETURNING project_id, event_id
  )
  INSERT INTO events (${COLUMNS})
  SELECT ${COLUMNS.split(', ')
    .map((c) => `f.${c}`)
    .join(', ')} FROM first_copies f JOIN new_ids USING (project_id, event_id)
  ORDER BY f.project_id, f.event, f."timestamp"`;

/** How a batch was written: `direct` COPY (no id stored before), or the `dedup` statement. */
export type WritePath = 'direct' | 'dedup';

export interface EventWriterOptions {
  /** Try the direct path first (default). Off, every batch takes the dedup statement. */
  direct?: boolean;
  /** The statement that moves the rows from `events_in` (benchmarks compare another). */
  insert?: string;
}

/**
 * Writes a batch of events in one transaction, storing each (project, event_id) at most once
 * within the dedup window. Two paths:
 *
 * - **direct**, tried first: COPY the batch's ids into `event_ids`, then COPY the events into
 *   `events`. When every id is new (the normal case: no redelivery, no client retry, no
 *   repeated id in the batch) this is the whole write, at COPY speed.
 * - **dedup**, when the ids' COPY meets an id already stored (unique violation): the
 *   transaction is rolled back and the batch is written again by COPY into a per-connection
 *   temporary table and one statement that records the new ids and inserts only those events
 *   (WRITE_NEW_EVENTS), the first copy of an id in the batch by time winning.
 *
 * Both store the same rows; any other failure is thrown as it is (the caller isolates rows that
 * PostgreSQL rejects). Returns how many rows were new and which path wrote them.
 *
 * Rows go in ordered by project, event and time, so each batch stores the events of one name next
 * to each other: a query over a rare event (a breakdown of purchases) then reads one heap page
 * per batch instead of one per event, and the (project_id, event, "timestamp") index is
 * inserted into in key order. COPY measured about 30 % faster than a single `INSERT … SELECT
 * FROM unnest(…)` (benchmarks/insert-methods.md); the two paths: benchmarks/write-path.md.
 */
export function createEventWriter(pool: pg.Pool, options: EventWriterOptions = {}) {
  const { direct = true, insert = WRITE_NEW_EVENTS } = options;
  // Temporary tables live as long as their connection: create one per pooled connection.
  const prepared = new WeakSet<pg.PoolClient>();
  const chunks = createChunkPool();

  /** COPYs the COPY text of `make(newChunk)` into `table`, in chunks of the pool. */
  async function copyPooled(client: pg.PoolClient, table: string, columns: string, make: (newChunk: ChunkSource) => Iterable<Buffer>) {
    const lease = chunks.lease();
    await copyInto(client, table, columns, make(lease.newChunk));
    lease.giveBack();
  }

  /** Runs `work` in a transaction on `client`; a failed ROLLBACK marks the connection broken. */
  async function inTransaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    try {
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        (error as { connectionBroken?: boolean }).connectionBroken = true;
      });
      throw error;
    }
  }

  /** The direct path; false when some id was already stored (nothing was written). */
  async function writeDirect(client: pg.PoolClient, sorted: readonly StreamRow[]): Promise<boolean> {
    try {
      await inTransaction(client, async () => {
        // In key order, as the dedup statement inserts them: two writers holding the same ids
        // (a redelivered entry) wait for each other instead of deadlocking.
        const ids = [...sorted].sort(byProjectEventId);
        await copyPooled(client, 'event_ids', EVENT_ID_COLUMNS, (newChunk) => copyChunks(ids, eventIdLine, COPY_CHUNK_BYTES, newChunk));
        await copyPooled(client, 'events', COLUMNS, (newChunk) => eventCopyChunks(sorted, COPY_CHUNK_BYTES, newChunk));
      });
      return true;
    } catch (error) {
      const { code, constraint, connectionBroken } = error as { code?: string; constraint?: string; connectionBroken?: boolean };
      if (code === '23505' && constraint === 'event_ids_pkey' && !connectionBroken) return false;
      throw error;
    }
  }

  async function writeDedup(client: pg.PoolClient, sorted: readonly StreamRow[]): Promise<number> {
    if (!prepared.has(client)) {
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS events_in (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
      prepared.add(client);
    }
    return inTransaction(client, async () => {
      await copyPooled(client, 'events_in', COLUMNS, (newChunk) => eventCopyChunks(sorted, COPY_CHUNK_BYTES, newChunk));
      return (await client.query(insert)).rowCount ?? 0;
    });
  }

  async function write(events: readonly StreamRow[]): Promise<{ inserted: number; path: WritePath }> {
    const sorted = [...events].sort(byProjectEventTime);
    const client = await pool.connect();
    let broken = false;
    try {
      if (direct && (await writeDirect(client, sorted))) return { inserted: sorted.length, path: 'direct' };
      return { inserted: await writeDedup(client, sorted), path: 'dedup' };
    } catch (error) {
      // A connection-level failure leaves the client unusable: drop it from the pool.
      const { code, connectionBroken } = error as { code?: string; connectionBroken?: boolean };
      if (connectionBroken || code === undefined) broken = true;
      throw error;
    } finally {
      client.release(broken);
    }
  }
  return { write };
}
export type EventWriter = ReturnType<typeof createEventWriter>;
