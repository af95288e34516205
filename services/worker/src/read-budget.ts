import { entryEventCount, MAX_STREAM_ENTRY_BYTES } from '@eap/core';
import type { StreamEntry } from './stream-entries.ts';

/** Bytes of an entry's fields: what reading and decoding it holds in memory, about. */
export function entrySize(entry: StreamEntry): number {
  let size = 0;
  for (const field of entry.fields) size += field.length;
  return size;
}

/** A batch of entries and the bytes of their data (the sum of their entrySize). */
export interface EntryBatch {
  entries: StreamEntry[];
  bytes: number;
}

/**
 * Splits entries into batches of at most `maxEvents` events and `maxBytes` of entry data. An
 * entry is never split: one entry over either bound is a batch of its own.
 */
export function batchesOf(entries: readonly StreamEntry[], maxEvents: number, maxBytes: number): EntryBatch[] {
  const batches: EntryBatch[] = [];
  let batch: EntryBatch = { entries: [], bytes: 0 };
  let events = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    const count = entryEventCount(entry.fields);
    if (batch.entries.length > 0 && (events + count > maxEvents || batch.bytes + size > maxBytes)) {
      batches.push(batch);
      batch = { entries: [], bytes: 0 };
      events = 0;
    }
    batch.entries.push(entry);
    batch.bytes += size;
    events += count;
  }
  if (batch.entries.length > 0) batches.push(batch);
  return batches;
}

/**
 * Whether a batch of `bytes` may start being written now, with `inFlight` batches holding
 * `bytesInFlight` already: fewer than `concurrency` batches, and their data and its within
 * `maxBytesInFlight`. The first batch always may, so a batch larger than the bound still goes.
 */
export function mayStartBatch(
  inFlight: number,
  bytesInFlight: number,
  bytes: number,
  limits: { concurrency: number; maxBytesInFlight: number },
): boolean {
  if (inFlight === 0) return true;
  return inFlight < limits.concurrency && bytesInFlight + bytes <= limits.maxBytesInFlight;
}

/**
 * How many entries to ask each shard for, so one read holds about one batch by events and by
 * bytes. It assumes the largest entry the API can write until it has seen smaller ones, and as
 * many events per entry as the most it has seen, and forgets both gradually (a fifth per read),
 * so a backlog of large events or large requests is read a few entries at a time and a stream of
 * small ones in full batches.
 */
export function createReadBudget(options: { batchSize: number; batchBytes: number; shards: number }) {
  let expectedEntryBytes = MAX_STREAM_ENTRY_BYTES;
  let expectedEntryEvents = 1;
  return {
    perShardCount(): number {
      const byEvents = Math.ceil(options.batchSize / options.shards / expectedEntryEvents);
      const byBytes = Math.floor(options.batchBytes / options.shards / expectedEntryBytes);
      return Math.max(1, Math.min(byEvents, byBytes));
    },
    observe(entries: readonly StreamEntry[]): void {
      if (entries.length === 0) return;
      let largest = 0;
      let most = 1;
      for (const entry of entries) {
        largest = Math.max(largest, entrySize(entry));
        most = Math.max(most, entryEventCount(entry.fields));
      }
      expectedEntryBytes = Math.max(largest, Math.floor(expectedEntryBytes * 0.8), 64);
      expectedEntryEvents = Math.max(most, expectedEntryEvents * 0.8, 1);
    },
  };
}
export type ReadBudget = ReturnType<typeof createReadBudget>;
