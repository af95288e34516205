import type { EntryField } from '@eap/core';

/** One entry read from a shard stream. */
export interface StreamEntry {
  shard: number;
  key: string;
  id: string;
  /** Names and values as text, but for the value of `data`, which the worker keeps as the bytes Redis sent. */
  fields: EntryField[];
  /** Times the entry was delivered, when known (claimed entries). */
  deliveries?: number;
}

/** Entries of a stream as Redis sends them, read as bytes: `[[id, fields], …]`. */
export type RawEntries = [Buffer | string, EntryField[] | null][];

/** Flattens an XREADGROUP reply (`[[key, [[id, fields], …]], …]`) into entries. */
export function entriesFromRead(reply: [Buffer | string, RawEntries][] | null, shardOf: (key: string) => number): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const [key, entries] of reply ?? []) out.push(...entriesOf(shardOf(String(key)), String(key), entries));
  return out;
}

/**
 * The entries of one shard's stream, with their ids as text. A pending entry whose data was
 * deleted from the stream reads as null fields (XREADGROUP), or not at all (XCLAIM, XAUTOCLAIM:
 * `keepDeleted` false).
 */
export function entriesOf(shard: number, key: string, entries: RawEntries, keepDeleted = true): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const [id, fields] of entries) {
    if (fields === null && !keepDeleted) continue;
    out.push({ shard, key, id: String(id), fields: fields === null ? [] : ownFields(fields) });
  }
  return out;
}

/**
 * The fields with every name and value but `data`'s as text: a Buffer from the reply is a view of
 * the socket's read buffer, and keeping a few bytes of one kept the whole read buffer alive.
 */
function ownFields(fields: EntryField[]): EntryField[] {
  const own: EntryField[] = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    // A value follows its name, made text just before: each name is decoded once.
    own[i] = i % 2 === 1 && own[i - 1] === 'data' ? field : String(field);
  }
  return own;
}

/** The value of `name` in a flat field list. */
export function fieldValue<F extends EntryField>(fields: readonly F[], name: string): F | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (String(fields[i]) === name) return fields[i + 1];
  return undefined;
}
