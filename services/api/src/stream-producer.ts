import type { Redis } from 'ioredis';
import { encodeStreamEntry, PROJECT_BACKLOG_KEY, streamKey } from '@eap/core';

/** One event ready to append: its shard and its entry's `data` (streamEntryData). */
export interface PreparedEntry {
  shard: number;
  data: string;
}

export type AppendOutcome = { ok: true; id: string } | { ok: false; error: string };

/**
 * Appends the events of every request that asked in the same turn of the event loop, in one
 * script call: it first counts the events in their projects' backlogs (the worker subtracts in
 * the script of its XACK), once per project, then adds one entry per event. No worker can
 * acknowledge an entry before it was counted. Redis refuses a script that would write while over
 * maxmemory at its first write, a count, so an out-of-memory refusal appends nothing of any
 * request. It never trims (no MAXLEN/MINID): the backlog cap is enforced by refusing requests,
 * never by dropping.
 * KEYS: the project count hash, then the shard streams. ARGV: the entry's version field, its value
 * and the data field's name, the number of projects p, p pairs (project, number of events), then
 * one pair (stream index, data) per event. Returns the entry ids in order.
 */
const APPEND_SCRIPT = `
local ids = {}
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local last = #ARGV
while i < last do
  ids[#ids + 1] = redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', ARGV[1], ARGV[2], ARGV[3], ARGV[i + 1])
  i = i + 2
end
return ids`;

type AppendingRedis = Redis & { eapAppend(numberOfKeys: number, ...args: string[]): Promise<string[]> };

/** The entry's fields but its data: [version field, version, data field]. */
const [VERSION_FIELD, VERSION, DATA_FIELD] = encodeStreamEntry('');

/**
 * At most this many events go in one script call; a request is never split across calls. Redis
 * runs a script without serving other clients, so a call stays around a millisecond.
 */
export const MAX_EVENTS_PER_APPEND_CALL = 2000;

interface PendingAppend {
  projectId: string;
  entries: PreparedEntry[];
  resolve: (outcomes: AppendOutcome[]) => void;
}

export interface StreamProducerOptions {
  /**
   * Called once per script call with its duration in seconds: from the first request that joined
   * it asking to Redis's answer, so the longest wait of any of its requests.
   */
  observeCallSeconds?: (seconds: number) => void;
}

/**
 * Appends events to the shard streams (see APPEND_SCRIPT). Requests that ask while a call is
 * being put together join it (group commit): under load one call carries the events of many
 * requests, so Redis runs one script and the API sends one command where it would send one per
 * request. Each request still learns its own outcome only once Redis answered. Each event gets an
 * outcome: all of a request's events are appended, or all failed with the error (an append whose
 * answer was lost may still have happened; the caller tells the client each event's id, so a
 * retry is deduplicated).
 */
export function createStreamProducer(redis: Redis, options: StreamProducerOptions = {}) {
  const client = redis as AppendingRedis;
  if (typeof client.eapAppend !== 'function') redis.defineCommand('eapAppend', { lua: APPEND_SCRIPT });
  const observeCallSeconds = options.observeCallSeconds;

  let pending: PendingAppend[] = [];
  let scheduled = false;
  /** When the first of the pending requests asked (performance.now()). */
  let firstAskedAt = 0;

  /** Sends the requests that asked since the last call, in as few calls as the cap allows. */
  function flush(): void {
    scheduled = false;
    const requests = pending;
    const askedAt = firstAskedAt;
    pending = [];
    let start = 0;
    while (start < requests.length) {
      let end = start + 1;
      let events = requests[start]!.entries.length;
      while (end < requests.length && events + requests[end]!.entries.length <= MAX_EVENTS_PER_APPEND_CALL) {
        events += requests[end]!.entries.length;
        end++;
      }
      void send(requests.slice(start, end), askedAt);
      start = end;
    }
  }

  async function send(requests: PendingAppend[], askedAt: number): Promise<void> {
    const keys = [PROJECT_BACKLOG_KEY];
    const keyIndex = new Map<number, string>();
    const counts = new Map<string, number>();
    for (const request of requests) counts.set(request.projectId, (counts.get(request.projectId) ?? 0) + request.entries.length);
    const args = [VERSION_FIELD, VERSION, DATA_FIELD, String(counts.size)];
    for (const [projectId, count] of counts) args.push(projectId, String(count));
    for (const request of requests) {
      for (const entry of request.entries) {
        let index = keyIndex.get(entry.shard);
        if (index === undefined) {
          keys.push(streamKey(entry.shard));
          index = String(keys.length);
          keyIndex.set(entry.shard, index);
        }
        args.push(index, entry.data);
      }
    }
    let ids: string[];
    try {
      ids = await client.eapAppend(keys.length, ...keys, ...args);
    } catch (error) {
      const failed: AppendOutcome = { ok: false, error: (error as Error).message };
      for (const request of requests) request.resolve(request.entries.map(() => failed));
      return;
    } finally {
      observeCallSeconds?.((performance.now() - askedAt) / 1000);
    }
    let next = 0;
    for (const request of requests) {
      const outcomes: AppendOutcome[] = [];
      for (let i = 0; i < request.entries.length; i++) outcomes.push({ ok: true, id: String(ids[next++]) });
      request.resolve(outcomes);
    }
  }

  function append(projectId: string, entries: PreparedEntry[]): Promise<AppendOutcome[]> {
    return new Promise((resolve) => {
      pending.push({ projectId, entries, resolve });
      if (!scheduled) {
        scheduled = true;
        firstAskedAt = performance.now();
        // After the I/O callbacks of this turn: every request whose body arrived in it joins.
        setImmediate(flush);
      }
    });
  }
  return { append };
}
export type StreamProducer = ReturnType<typeof createStreamProducer>;
