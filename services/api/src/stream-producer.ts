import type { Redis } from 'ioredis';
import { encodeStreamEntry, PROJECT_BACKLOG_KEY, streamKey } from '@eap/core';

/** One event ready to append: its shard and its serialized stream form. */
export interface PreparedEntry {
  shard: number;
  json: string;
}

export type AppendOutcome = { ok: true; id: string } | { ok: false; error: string };

/**
 * Counts a request's events in its project's backlog (the worker subtracts in the script of its
 * XACK) and appends them, one entry per event, in one script: one command per request however
 * many events it carries, and no worker can acknowledge an entry before it was counted. Redis
 * refuses a script that would write while over maxmemory at its first write, the count, so an
 * out-of-memory refusal appends nothing. It never trims (no MAXLEN/MINID): the backlog cap is
 * enforced by refusing requests, never by dropping.
 * KEYS: the project count hash, then the shard streams; ARGV: the project, the entry's version
 * field, its value and the data field's name, then (stream index, data) per entry. Returns the
 * entry ids in order.
 */
const APPEND_SCRIPT = `
redis.call('HINCRBY', KEYS[1], ARGV[1], (#ARGV - 4) / 2)
local ids = {}
for i = 5, #ARGV, 2 do
  ids[#ids + 1] = redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', ARGV[2], ARGV[3], ARGV[4], ARGV[i + 1])
end
return ids`;

type AppendingRedis = Redis & { eapAppend(numberOfKeys: number, ...args: string[]): Promise<string[]> };

/** The entry's fields but its data: [version field, version, data field]. */
const [VERSION_FIELD, VERSION, DATA_FIELD] = encodeStreamEntry('');

/**
 * Appends events to the shard streams (see APPEND_SCRIPT). Each event gets an outcome: all are
 * appended, or all failed with the error (an append whose answer was lost may still have
 * happened; the caller tells the client each event's id, so a retry is deduplicated).
 */
export function createStreamProducer(redis: Redis) {
  const client = redis as AppendingRedis;
  // With ioredis auto-pipelining, the scripts of every request in flight in the same tick leave
  // in one write.
  if (typeof client.eapAppend !== 'function') redis.defineCommand('eapAppend', { lua: APPEND_SCRIPT });

  async function append(projectId: string, entries: PreparedEntry[]): Promise<AppendOutcome[]> {
    const keys = [PROJECT_BACKLOG_KEY];
    const keyIndex = new Map<number, string>();
    const args = [projectId, VERSION_FIELD, VERSION, DATA_FIELD];
    for (const entry of entries) {
      let index = keyIndex.get(entry.shard);
      if (index === undefined) {
        keys.push(streamKey(entry.shard));
        index = String(keys.length);
        keyIndex.set(entry.shard, index);
      }
      args.push(index, entry.json);
    }
    try {
      const ids = await client.eapAppend(keys.length, ...keys, ...args);
      return ids.map((id) => ({ ok: true, id: String(id) }));
    } catch (error) {
      const message = (error as Error).message;
      return entries.map(() => ({ ok: false, error: message }));
    }
  }
  return { append };
}
export type StreamProducer = ReturnType<typeof createStreamProducer>;
