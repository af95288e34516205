import type { Redis } from 'ioredis';
import {
  CONSUMER_GROUP,
  DLQ_STREAM,
  type EntryField,
  entryEventCount,
  entryEventFields,
  entryProjectId,
  PROJECT_BACKLOG_KEY,
  streamIdTime,
} from '@eap/core';
import { fieldValue, type StreamEntry } from './stream-entries.ts';

/** Why an entry could not be stored. */
export type DeadLetterReason = 'decode_error' | 'out_of_range' | 'db_rejected' | 'max_deliveries';

export interface DeadLetter {
  entry: StreamEntry;
  /**
   * The event of the entry this letter is about, when it concerns one event of an entry holding
   * several (the others are stored or have letters of their own); absent: the whole entry.
   */
  index?: number;
  reason: DeadLetterReason;
  error: string;
}

/**
 * What a letter keeps of what it is about: the entry byte for byte, or for one event of an entry
 * holding several, a single-event entry of that event (replayed as it is) and its place.
 */
function letterFields({ entry, index }: DeadLetter): EntryField[] {
  if (index === undefined || entryEventCount(entry.fields) === 1) return entry.fields;
  return ['event_index', String(index), ...entryEventFields(entry.fields, index)];
}

/**
 * Moves entries, or single events of them, to the dead-letter stream `eap:dlq` with everything
 * needed to understand and replay them (original fields, reason, error, stream, shard, original
 * id, the event's place in the entry, first-seen time, deliveries), then acknowledges the entries
 * that are done in their shard. The DLQ append comes first: a crash in between leaves the entry
 * pending, so it is dead-lettered again rather than lost.
 */
export function createDeadLetterQueue(redis: Redis, options: { maxEntries: number; onTrimmed?: (count: number) => void }) {
  /**
   * Dead-letters entries or events, then acknowledges `done` (by default every letter's entry:
   * pass only the entries none of whose events still waits to be stored). The DLQ is then
   * trimmed to its newest `maxEntries` (oldest dropped, counted by `onTrimmed`), so a flood of
   * bad input cannot fill Redis.
   */
  async function deadLetter(letters: readonly DeadLetter[], done: readonly StreamEntry[] = letters.map((l) => l.entry)): Promise<void> {
    if (letters.length === 0) {
      await acknowledgeEntries(redis, done);
      return;
    }
    const now = new Date().toISOString();
    const add = redis.pipeline();
    for (const letter of letters) {
      const { entry, reason, error } = letter;
      add.xadd(
        DLQ_STREAM,
        '*',
        'reason',
        reason,
        'error',
        error.slice(0, 2000),
        'stream',
        entry.key,
        'shard',
        String(entry.shard),
        'original_id',
        entry.id,
        'first_seen',
        new Date(streamIdTime(entry.id)).toISOString(),
        'deliveries',
        String(entry.deliveries ?? 1),
        'dead_lettered_at',
        now,
        ...letterFields(letter),
      );
    }
    add.xtrim(DLQ_STREAM, 'MAXLEN', options.maxEntries);
    const results = await add.exec();
    throwOnPipelineError(results);
    const trimmed = Number(results?.at(-1)?.[1] ?? 0);
    if (trimmed > 0) options.onTrimmed?.(trimmed);
    await acknowledgeEntries(redis, done);
  }
  return { deadLetter };
}
export type DeadLetterQueue = ReturnType<typeof createDeadLetterQueue>;

/**
 * XACKs entries and subtracts what was actually acknowledged now (not before, by another worker)
 * from each project's backlog count, all in one script so the count never drifts from the
 * acknowledgements. A count that reaches zero is removed. The entries go in groups of one stream
 * and one project, each acknowledged by one XACK (which returns how many of its ids it
 * acknowledged): a command per group rather than per entry was half of Redis's CPU for an
 * acknowledgement (benchmarks/profiles.md, "Ninth change").
 * KEYS: the project count hash, then the streams; ARGV: the group, then per group of entries its
 * stream index, its project (or ''), the number of ids k, and the k ids.
 */
const ACKNOWLEDGE_SCRIPT = `
local group = ARGV[1]
local done = {}
local i = 2
while i <= #ARGV do
  local project = ARGV[i + 1]
  local last = i + 2 + tonumber(ARGV[i + 2])
  local acked = redis.call('XACK', KEYS[tonumber(ARGV[i])], group, unpack(ARGV, i + 3, last))
  if acked > 0 and project ~= '' then done[project] = (done[project] or 0) + acked end
  i = last + 1
end
for project, n in pairs(done) do
  if redis.call('HINCRBY', KEYS[1], project, -n) <= 0 then redis.call('HDEL', KEYS[1], project) end
end
return 0`;

/** Most ids in one XACK of the script (Lua's unpack is bounded by its stack of 8,000 values). */
const MAX_IDS_PER_XACK = 1000;

type AcknowledgingRedis = Redis & { eapAcknowledge(numberOfKeys: number, ...args: (string | number)[]): Promise<number> };

/** Acknowledges entries in one script call (see ACKNOWLEDGE_SCRIPT); an entry given twice counts once. */
export async function acknowledgeEntries(redis: Redis, given: readonly StreamEntry[]): Promise<void> {
  if (given.length === 0) return;
  const entries = new Set(given);
  const client = redis as AcknowledgingRedis;
  if (typeof client.eapAcknowledge !== 'function') redis.defineCommand('eapAcknowledge', { lua: ACKNOWLEDGE_SCRIPT });
  const keys = [PROJECT_BACKLOG_KEY];
  const keyIndex = new Map<string, number>();
  // Ids per stream and project, in the order they came.
  const groups = new Map<number, Map<string, string[]>>();
  for (const e of entries) {
    let index = keyIndex.get(e.key);
    if (index === undefined) {
      keys.push(e.key);
      index = keys.length;
      keyIndex.set(e.key, index);
      groups.set(index, new Map());
    }
    const projects = groups.get(index)!;
    const project = entryProjectId(fieldValue(e.fields, 'data')) ?? '';
    const ids = projects.get(project);
    if (ids === undefined) projects.set(project, [e.id]);
    else ids.push(e.id);
  }
  const args: (string | number)[] = [CONSUMER_GROUP];
  for (const [index, projects] of groups)
    for (const [project, ids] of projects)
      for (let start = 0; start < ids.length; start += MAX_IDS_PER_XACK) {
        const chunk = ids.slice(start, start + MAX_IDS_PER_XACK);
        args.push(index, project, chunk.length, ...chunk);
      }
  await client.eapAcknowledge(keys.length, ...keys, ...args);
}

/** Throws the first error of a pipeline reply (ioredis reports errors per command). */
export function throwOnPipelineError(results: [Error | null, unknown][] | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}
