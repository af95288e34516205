import { decodeStreamRows, type Logger, type StreamRow } from '@eap/core';
import { classifyPgError } from '@eap/db';
import type { DeadLetter, DeadLetterQueue } from './dead-letter.ts';
import type { EventWriter } from './event-writer.ts';
import type { WorkerMetrics } from './metrics.ts';
import { type PartitionManager, utcDay } from './partition-manager.ts';
import type { StreamEntry } from './stream-entries.ts';

const DAY_MS = 86_400_000;

/**
 * `Date.parse` that remembers the last string it parsed. The events of one entry share their
 * receive time, and those without a client time their event time too: parsing each of them was
 * about 7 % of the worker's main thread at full rate (benchmarks/profiles.md, "Fourteenth round").
 */
export function lastTimeParser(): (iso: string) => number {
  let lastIso: string | undefined;
  let lastMs = Number.NaN;
  return (iso) => {
    if (iso !== lastIso) {
      lastIso = iso;
      lastMs = Date.parse(iso);
    }
    return lastMs;
  };
}

/** An event ready to write, the entry it came in and its place there. */
export interface Decoded {
  entry: StreamEntry;
  index: number;
  event: StreamRow;
}

/** The per-entry outcome of writing one group of entries. */
type WriteOutcome = { kind: 'stored'; inserted: number; items: Decoded[] } | { kind: 'rejected'; letters: DeadLetter[] };

export interface BatchProcessorOptions {
  writer: EventWriter;
  partitions: PartitionManager;
  dlq: DeadLetterQueue;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Oldest accepted event age and furthest accepted future, in days. */
  maxEventAgeDays: number;
  maxEventFutureDays: number;
}

/**
 * Turns a batch of stream entries into rows: decodes their events with the shared schema,
 * dead-letters what cannot be decoded or is outside the accepted time range (a whole entry when
 * the entry itself is unusable, else the event alone), writes the rest in one transaction, and
 * acknowledges an entry only once each of its events is committed or dead-lettered. A batch
 * failing with a data error is split in halves until the bad events are alone, so only they are
 * dead-lettered and everything else commits. Infrastructure failures (PostgreSQL or Redis
 * unavailable) are thrown unchanged: the caller retries, and the entries stay pending meanwhile.
 */
export function createBatchProcessor(options: BatchProcessorOptions) {
  const { writer, partitions, dlq, metrics, logger } = options;

  /**
   * Decodes entries and checks their events' time range; dead-letters what fails and
   * acknowledges the entries with nothing left to write; returns what can be written.
   */
  async function prepare(entries: readonly StreamEntry[], now: number): Promise<Decoded[]> {
    const letters: DeadLetter[] = [];
    const done: StreamEntry[] = [];
    const ok: Decoded[] = [];
    const eventTime = lastTimeParser();
    const receiveTime = lastTimeParser();
    for (const entry of entries) {
      let rows: (StreamRow | Error)[];
      try {
        rows = decodeStreamRows(entry.fields);
      } catch (error) {
        letters.push({ entry, reason: 'decode_error', error: describe(error) });
        done.push(entry);
        continue;
      }
      const before = ok.length;
      for (let index = 0; index < rows.length; index++) {
        const event = rows[index]!;
        if (event instanceof Error) {
          letters.push({ entry, index, reason: 'decode_error', error: describe(event) });
          continue;
        }
        // The same window the API applied, measured from the same receive time: an event the API
        // accepted is never refused here, however long it waited in the stream.
        const t = eventTime(event.timestamp);
        const received = receiveTime(event.received_at);
        const oldest = received - options.maxEventAgeDays * DAY_MS;
        const newest = Math.max(received, now) + options.maxEventFutureDays * DAY_MS;
        if (t < oldest || t > newest) {
          letters.push({
            entry,
            index,
            reason: 'out_of_range',
            error: `event time ${event.timestamp} is outside the accepted range ${new Date(oldest).toISOString()} .. ${new Date(newest).toISOString()}`,
          });
          continue;
        }
        ok.push({ entry, index, event });
      }
      if (ok.length === before) done.push(entry);
    }
    await deadLetter(letters, done);
    return ok;
  }

  /** Dead-letters `letters`, then acknowledges `done` (by default the letters' entries). */
  async function deadLetter(letters: DeadLetter[], done?: readonly StreamEntry[]): Promise<void> {
    if (letters.length === 0 && (done === undefined || done.length === 0)) return;
    await dlq.deadLetter(letters, done);
    for (const letter of letters) {
      metrics.eventsDeadLettered.inc({ reason: letter.reason });
      logger.warn(
        { reason: letter.reason, stream: letter.entry.key, id: letter.entry.id, event_index: letter.index, error: letter.error },
        'dead-lettered',
      );
    }
  }

  /** Writes items, splitting on data errors; returns what was stored and what was rejected. */
  async function writeIsolating(items: Decoded[], out: WriteOutcome[]): Promise<void> {
    if (items.length === 0) return;
    try {
      const { inserted, path } = await writer.write(items.map((d) => d.event));
      metrics.batchWrites.inc({ path });
      out.push({ kind: 'stored', inserted, items });
    } catch (error) {
      if (classifyPgError(error) === 'transient') throw error;
      if (isMissingPartition(error)) {
        // A partition was dropped (retention) or never existed although cached: re-check it.
        partitions.forget();
        throw error;
      }
      if (items.length === 1) {
        // The letter keeps the event as it was appended, byte for byte.
        const { entry, index } = items[0]!;
        out.push({ kind: 'rejected', letters: [{ entry, index, reason: 'db_rejected', error: describe(error) }] });
        return;
      }
      const half = Math.ceil(items.length / 2);
      await writeIsolating(items.slice(0, half), out);
      await writeIsolating(items.slice(half), out);
    }
  }

  /**
   * Writes and acknowledges decoded items. Safe to call again with the same items after a
   * failure: rows already committed are skipped by their ids in `event_ids`.
   */
  async function store(items: readonly Decoded[]): Promise<void> {
    if (items.length === 0) return;
    await partitions.ensureDays(new Set(items.map((d) => utcDay(d.event.timestamp))));
    const stopTimer = metrics.batchWriteDuration.startTimer();
    const outcomes: WriteOutcome[] = [];
    await writeIsolating([...items], outcomes);
    stopTimer();
    const committedAt = Date.now();
    let inserted = 0;
    let stored = 0;
    const letters: DeadLetter[] = [];
    const receiveTime = lastTimeParser();
    for (const outcome of outcomes) {
      if (outcome.kind === 'rejected') {
        letters.push(...outcome.letters);
        continue;
      }
      inserted += outcome.inserted;
      stored += outcome.items.length;
      for (const { event } of outcome.items) metrics.endToEndLatency.observe((committedAt - receiveTime(event.received_at)) / 1000);
    }
    // Counted at commit: if acknowledging fails below, the retry finds these rows stored.
    metrics.eventsWritten.inc(inserted);
    metrics.eventsDeduplicated.inc(stored - inserted);
    // Every event of these entries is now committed or about to be dead-lettered.
    await deadLetter(
      letters,
      items.map((d) => d.entry),
    );
  }

  return { prepare, store, deadLetter };
}
export type BatchProcessor = ReturnType<typeof createBatchProcessor>;

function isMissingPartition(error: unknown): boolean {
  return (error as { code?: string }).code === '23514' && /no partition of relation/.test((error as Error).message);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
