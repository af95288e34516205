/** One entry read from a shard stream. */
export interface StreamEntry {
  shard: number;
  key: string;
  id: string;
  fields: string[];
  /** Times the entry was delivered, when known (claimed entries). */
  deliveries?: number;
}

type RawEntries = [string, string[] | null][];

/** Flattens an XREADGROUP reply (`[[key, [[id, fields], …]], …]`) into entries. */
export function entriesFromRead(reply: [string, RawEntries][] | null, shardOf: (key: string) => number): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const [key, entries] of reply ?? []) {
    const shard = shardOf(key);
    for (const [id, fields] of entries) {
      // A pending entry whose data was deleted from the stream reads as null fields.
      out.push({ shard, key, id, fields: fields ?? [] });
    }
  }
  return out;
}

/** The value of `name` in a flat field list. */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
