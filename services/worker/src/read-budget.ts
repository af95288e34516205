import { MAX_STREAM_ENTRY_BYTES } from '@eap/core';
import type { StreamEntry } from './stream-entries.ts';

/** Characters of an entry's fields: what reading and decoding it holds in memory, about. */
export function entrySize(entry: StreamEntry): number {
  let size = 0;
  for (const field of entry.fields) size += field.length;
  return size;
}

/** Splits entries into batches of at most `maxEntries` entries and `maxBytes` of entry data. */
export function batchesOf(entries: readonly StreamEntry[], maxEntries: number, maxBytes: number): StreamEntry[][] {
  const batches: StreamEntry[][] = [];
  let batch: StreamEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (batch.length > 0 && (batch.length >= maxEntries || bytes + size > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * How many entries to ask each shard for, so one read holds about one batch by bytes as well as
 * by count. It assumes the largest entry the API can write until it has seen smaller ones, and
 * forgets large entries gradually (a fifth per read), so a backlog of large events is read a few
 * at a time and a stream of small ones in full batches.
 */
export function createReadBudget(options: { batchSize: number; batchBytes: number; shards: number }) {
  const maxPerShard = Math.ceil(options.batchSize / options.shards);
  let expectedEntryBytes = MAX_STREAM_ENTRY_BYTES;
  return {
    perShardCount(): number {
      return Math.max(1, Math.min(maxPerShard, Math.floor(options.batchBytes / options.shards / expectedEntryBytes)));
    },
    observe(entries: readonly StreamEntry[]): void {
      if (entries.length === 0) return;
      let largest = 0;
      for (const entry of entries) largest = Math.max(largest, entrySize(entry));
      expectedEntryBytes = Math.max(largest, Math.floor(expectedEntryBytes * 0.8), 64);
    },
  };
}
export type ReadBudget = ReturnType<typeof createReadBudget>;
