import type { Redis } from 'ioredis';
import { encodeStreamEntry, joinEntryEvents, MAX_STREAM_ENTRY_BYTES, PROJECT_BACKLOG_KEY, streamKey } from '@eap/core';

/** One event ready to append: its shard and its lines (streamEntryData). */
export interface PreparedEvent {
  shard: number;
  data: string;
}

/** One stream entry to append: events of one project and shard, joined. */
interface PackedEntry {
  shard: number;
  data: string;
  /** Number of events in `data`. */
  events: number;
}

/** Events packed into entries, and the index of each event's entry. */
interface PackedEvents {
  entries: PackedEntry[];
  entryOf: readonly number[];
}

/** The entry of a lone event. */
const ONLY_ENTRY: readonly number[] = Object.freeze([0]);

/**
 * Packs events of one project into entries: one per shard, in the order of the events, cut where
 * the next event would take an entry's data over MAX_STREAM_ENTRY_BYTES. Returns the entries and,
 * for each event, the index of its entry. One entry per event cost Redis an XADD, a line in the
 * append-only file, a place in the consumer group's pending list and an XACK per event; now a
 * batch of 100 events costs about one of each per shard (benchmarks/profiles.md, "Tenth change").
 */
export function packEntries(events: readonly PreparedEvent[], maxChars: number = MAX_STREAM_ENTRY_BYTES): PackedEvents {
  // A lone event (a call of one single-event request, as at low load) is its own entry, without
  // the bookkeeping below.
  if (events.length === 1) return { entries: [{ shard: events[0]!.shard, data: events[0]!.data, events: 1 }], entryOf: ONLY_ENTRY };
  // The events of each entry, joined once at the end: a string grown event by event would be a
  // rope that Redis's client flattens (a copy per entry) before encoding it.
  const parts: { shard: number; lines: string[]; chars: number }[] = [];
  const entryOf: number[] = [];
  // The entry of each shard still open for more events.
  const open = new Map<number, number>();
  for (const event of events) {
    const index = open.get(event.shard);
    const entry = index === undefined ? undefined : parts[index];
    if (entry !== undefined && entry.chars + 1 + event.data.length <= maxChars) {
      entry.lines.push(event.data);
      entry.chars += 1 + event.data.length;
      entryOf.push(index!);
      continue;
    }
    open.set(event.shard, parts.length);
    entryOf.push(parts.length);
    parts.push({ shard: event.shard, lines: [event.data], chars: event.data.length });
  }
  const entries = parts.map(({ shard, lines }) => ({
    shard,
    data: joinEntryEvents(lines),
    events: lines.length,
  }));
  return { entries, entryOf };
}

export type AppendOutcome = { ok: true; id: string } | { ok: false; error: string };

/**
 * Appends the events of every request that asked in the same turn of the event loop, in one
 * script call: it first counts the entries in their projects' backlogs (the worker subtracts in
 * the script of its XACK), once per project, then adds the entries (packCall). No worker can
 * acknowledge an entry before it was counted. Redis refuses a script that would write while over
 * maxmemory at its first write, a count, so an out-of-memory refusal appends nothing of any
 * request. It never trims (no MAXLEN/MINID): the backlog cap is enforced by refusing requests,
 * never by dropping.
 * KEYS: the project count hash, then the shard streams. ARGV: the entry's version field and its
 * value, the names of the count and data fields, the number of projects p, p pairs (project,
 * number of entries), then one triple (stream index, number of events, data) per entry. Returns
 * the entry ids in order.
 */
const APPEND_SCRIPT = `
local ids = {}
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local last = #ARGV
while i < last do
  ids[#ids + 1] = redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', ARGV[1], ARGV[2], ARGV[3], ARGV[i + 1], ARGV[4], ARGV[i + 2])
  i = i + 3
end
return ids`;

type AppendingRedis = Redis & { eapAppend(numberOfKeys: number, ...args: string[]): Promise<string[]> };

/** The entry's fields but its values of n and data: [version field, version, count field, data field]. */
const [VERSION_FIELD, VERSION, COUNT_FIELD, , DATA_FIELD] = encodeStreamEntry('') as [string, string, string, string, string];

/**
 * At most this many events go in one script call; a request is never split across calls. Redis
 * runs a script without serving other clients, so a call stays around a millisecond.
 */
export const MAX_EVENTS_PER_APPEND_CALL = 2000;

/**
 * A request's events as they wait for the next call (see requestToAppend): a single-event
 * request's event, packed at the call with its project's other single events, or the entries of
 * a request of several events.
 */
export type RequestToAppend = { projectId: string } & (
  | { event: PreparedEvent; packed?: undefined }
  | { event?: undefined; packed: PackedEvents }
);

/** How many events a waiting request holds. */
const eventsOf = (request: RequestToAppend): number => (request.packed === undefined ? 1 : request.packed.entryOf.length);

/**
 * A request's events, ready for the next call. A request of several events is packed into
 * entries at once (as batches of 100 make entries of about 25 events per shard already): its
 * events' strings are joined and die young, where kept until the call they outlived a scavenge
 * and cost the API more CPU per event (benchmarks/profiles.md, "Eighteenth round").
 */
export function requestToAppend(projectId: string, events: readonly PreparedEvent[]): RequestToAppend {
  return events.length === 1 ? { projectId, event: events[0]! } : { projectId, packed: packEntries(events) };
}

type PendingAppend = RequestToAppend & { resolve: (outcomes: AppendOutcome[]) => void };

/** The entries of one script call, and where each request's events landed in them. */
interface PackedCall {
  /** Per project: [project id, number of entries]. */
  counts: [string, number][];
  entries: PackedEntry[];
  /** Per request, in order: the call's entry index of each of its events. */
  entryOf: number[][];
}

/**
 * The entries of a call. Single-event requests (the common request of browser and mobile SDKs)
 * of one project share entries: one per project and shard of the call instead of one each, which
 * saves Redis an XADD, a line in the append-only file, a place in the pending list and an
 * acknowledgement per event (benchmarks/profiles.md, "Eighteenth round"). A request of several
 * events keeps the entries it was packed into. An entry never mixes projects: the backlog counts
 * and the worker's acknowledgement count per project.
 */
export function packCall(requests: readonly RequestToAppend[]): PackedCall {
  const entries: PackedEntry[] = [];
  const entryOf: number[][] = new Array(requests.length);
  const counts = new Map<string, number>();
  /** Adds a project's entries to the call; returns the call's index of each event's entry. */
  const add = (projectId: string, packed: PackedEvents): number[] => {
    counts.set(projectId, (counts.get(projectId) ?? 0) + packed.entries.length);
    const first = entries.length;
    entries.push(...packed.entries);
    return packed.entryOf.map((entry) => first + entry);
  };
  // The single-event requests of each project and their events, in the order they asked.
  const singles = new Map<string, { requests: number[]; events: PreparedEvent[] }>();
  requests.forEach((request, r) => {
    if (request.event === undefined) {
      entryOf[r] = add(request.projectId, request.packed);
      return;
    }
    const project = singles.get(request.projectId);
    if (project === undefined) singles.set(request.projectId, { requests: [r], events: [request.event] });
    else {
      project.requests.push(r);
      project.events.push(request.event);
    }
  });
  for (const [projectId, project] of singles) {
    const of = add(projectId, packEntries(project.events));
    project.requests.forEach((r, i) => {
      entryOf[r] = [of[i]!];
    });
  }
  return { counts: [...counts], entries, entryOf };
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
 * being put together (two turns of the event loop) join it (group commit): under load one call
 * carries the events of many requests, so Redis runs one script and the API sends one command
 * where it would send one per request. Each request still learns its own outcome only once Redis
 * answered. Each event gets an outcome: all of a request's events are appended, or all failed with
 * the error (an append whose answer was lost may still have happened; the caller tells the client
 * each event's id, so a retry is deduplicated).
 */
export function createStreamProducer(redis: Redis, options: StreamProducerOptions = {}) {
  const client = redis as AppendingRedis;
  if (typeof client.eapAppend !== 'function') redis.defineCommand('eapAppend', { lua: APPEND_SCRIPT });
  const observeCallSeconds = options.observeCallSeconds;

  let pending: PendingAppend[] = [];
  let scheduled = false;
  /** When the first of the pending requests asked (performance.now()). */
  let firstAskedAt = 0;

  /**
   * The call waits two turns of the event loop: every request whose body arrived in this turn or
   * the next joins it. Under load one more turn of requests shares the call (its command, its
   * socket write, the wake-up of Redis and its reply), for about 7 % less CPU per single-event
   * request; with no load the wait is one empty turn (benchmarks/profiles.md, "Twenty-third
   * round").
   */
  function flushNextTurn(): void {
    setImmediate(flush);
  }

  /** Sends the requests that asked since the last call, in as few calls as the cap allows. */
  function flush(): void {
    scheduled = false;
    const requests = pending;
    const askedAt = firstAskedAt;
    pending = [];
    let start = 0;
    while (start < requests.length) {
      let end = start + 1;
      let events = eventsOf(requests[start]!);
      while (end < requests.length && events + eventsOf(requests[end]!) <= MAX_EVENTS_PER_APPEND_CALL) {
        events += eventsOf(requests[end]!);
        end++;
      }
      void send(requests.slice(start, end), askedAt);
      start = end;
    }
  }

  async function send(requests: PendingAppend[], askedAt: number): Promise<void> {
    const { counts, entries, entryOf } = packCall(requests);
    const keys = [PROJECT_BACKLOG_KEY];
    const keyIndex = new Map<number, string>();
    const args = [VERSION_FIELD, VERSION, COUNT_FIELD, DATA_FIELD, String(counts.length)];
    for (const [projectId, count] of counts) args.push(projectId, String(count));
    for (const entry of entries) {
      let index = keyIndex.get(entry.shard);
      if (index === undefined) {
        keys.push(streamKey(entry.shard));
        index = String(keys.length);
        keyIndex.set(entry.shard, index);
      }
      args.push(index, String(entry.events), entry.data);
    }
    let ids: string[];
    try {
      ids = await client.eapAppend(keys.length, ...keys, ...args);
    } catch (error) {
      const failed: AppendOutcome = { ok: false, error: (error as Error).message };
      for (const request of requests) request.resolve(Array.from({ length: eventsOf(request) }, () => failed));
      return;
    } finally {
      observeCallSeconds?.((performance.now() - askedAt) / 1000);
    }
    requests.forEach((request, r) => {
      request.resolve(entryOf[r]!.map((entry) => ({ ok: true, id: String(ids[entry]) })));
    });
  }

  /** Appends a request's events; resolves with an outcome per event (its entry's). */
  function append(projectId: string, events: readonly PreparedEvent[]): Promise<AppendOutcome[]> {
    return new Promise((resolve) => {
      pending.push({ ...requestToAppend(projectId, events), resolve });
      if (!scheduled) {
        scheduled = true;
        firstAskedAt = performance.now();
        setImmediate(flushNextTurn);
      }
    });
  }
  return { append };
}
export type StreamProducer = ReturnType<typeof createStreamProducer>;
