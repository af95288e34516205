import type { Redis } from 'ioredis';
import {
  decodeStreamEvents,
  DLQ_STREAM,
  entryProjectId,
  PROJECT_BACKLOG_KEY,
  shardFor,
  streamIdTime,
  streamKey,
  UNSUPPORTED_VERSION_ERROR,
} from '@eap/core';
import { fieldValue } from './stream-entries.ts';

/** One dead-lettered entry as shown by `eap dlq list` and `eap dlq show`. */
export interface DeadLetterView {
  id: string;
  reason: string;
  error: string;
  stream: string;
  shard: number | null;
  original_id: string;
  first_seen: string;
  deliveries: number;
  dead_lettered_at: string;
  /** The original entry's `data` field (its events' lines, or in version 1 the event as JSON), when present. */
  data: string | undefined;
}

export interface ReplayResult {
  replayed: number;
  /** Entries left in the DLQ because they still do not decode, with why. */
  skipped: { id: string; error: string }[];
}

const PAGE = 500;

function toView(id: string, fields: string[]): DeadLetterView {
  const shard = fieldValue(fields, 'shard');
  return {
    id,
    reason: fieldValue(fields, 'reason') ?? '',
    error: fieldValue(fields, 'error') ?? '',
    stream: fieldValue(fields, 'stream') ?? '',
    shard: shard === undefined ? null : Number(shard),
    original_id: fieldValue(fields, 'original_id') ?? '',
    first_seen: fieldValue(fields, 'first_seen') ?? '',
    deliveries: Number(fieldValue(fields, 'deliveries') ?? 0),
    dead_lettered_at: fieldValue(fields, 'dead_lettered_at') ?? new Date(streamIdTime(id)).toISOString(),
    data: fieldValue(fields, 'data'),
  };
}

/** Walks the DLQ oldest first in pages (after the letter `after`, when given), without loading it whole. */
async function* dlqEntries(redis: Redis, after?: string): AsyncGenerator<[string, string[]]> {
  let start = after === undefined ? '-' : `(${after}`;
  for (;;) {
    const page = (await redis.xrange(DLQ_STREAM, start, '+', 'COUNT', PAGE)) as [string, string[]][];
    for (const entry of page) yield entry;
    if (page.length < PAGE) return;
    start = `(${page[page.length - 1]![0]}`;
  }
}

/**
 * Reads, replays and purges the dead-letter stream. Replay decodes each entry again with the
 * shared schema (what still does not decode stays in the DLQ), appends it to its shard stream,
 * and deletes it from the DLQ only after that append succeeded; replaying something already
 * stored is a no-op thanks to the primary key.
 */
export function createDlqTool(redis: Redis, shards: number) {
  async function list(options: { limit?: number; reason?: string } = {}): Promise<DeadLetterView[]> {
    const out: DeadLetterView[] = [];
    for await (const [id, fields] of dlqEntries(redis)) {
      const view = toView(id, fields);
      if (options.reason && view.reason !== options.reason) continue;
      out.push(view);
      if (options.limit !== undefined && out.length >= options.limit) break;
    }
    return out;
  }

  async function show(id: string): Promise<(DeadLetterView & { fields: Record<string, string> }) | null> {
    const raw = (await redis.xrange(DLQ_STREAM, id, id)) as [string, string[]][];
    const entry = raw[0];
    if (!entry) return null;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < entry[1].length; i += 2) fields[entry[1][i]!] = entry[1][i + 1]!;
    return { ...toView(entry[0], entry[1]), fields };
  }

  async function count(): Promise<number> {
    return redis.xlen(DLQ_STREAM);
  }

  async function replayOne(id: string, fields: string[]): Promise<string | undefined> {
    let event: ReturnType<typeof decodeStreamEvents>[number];
    try {
      // Every event of the letter must decode (a letter of a whole entry may hold several).
      event = decodeStreamEvents(fields)[0]!;
    } catch (error) {
      return (error as Error).message.slice(0, 500);
    }
    const recorded = Number(fieldValue(fields, 'shard'));
    const shard =
      Number.isInteger(recorded) && recorded >= 0 && recorded < shards ? recorded : shardFor(event.project_id, event.distinct_id, shards);
    const data = fieldValue(fields, 'data')!;
    // Counted in the project's backlog as the API counts what it appends: first, so the worker
    // cannot subtract it before it was added (see the stream producer).
    const project = entryProjectId(data);
    if (project !== undefined) await redis.hincrby(PROJECT_BACKLOG_KEY, project, 1);
    try {
      // In the letter's own version: the data is the original entry's (or event's), byte for byte.
      const count = fieldValue(fields, 'n');
      await redis.xadd(streamKey(shard), '*', 'v', fieldValue(fields, 'v')!, ...(count === undefined ? [] : ['n', count]), 'data', data);
    } catch (error) {
      if (project !== undefined) await redis.hincrby(PROJECT_BACKLOG_KEY, project, -1).catch(() => undefined);
      throw error;
    }
    await redis.xdel(DLQ_STREAM, id);
    return undefined;
  }

  /** Replays the given ids, or every entry (optionally of one reason). */
  async function replay(
    options: { ids?: string[]; all?: boolean; reason?: string },
    onProgress?: (done: number) => void,
  ): Promise<ReplayResult> {
    const result: ReplayResult = { replayed: 0, skipped: [] };
    const handle = async (id: string, fields: string[]) => {
      const error = await replayOne(id, fields);
      if (error === undefined) result.replayed++;
      else result.skipped.push({ id, error });
      const done = result.replayed + result.skipped.length;
      if (done % 1000 === 0) onProgress?.(done);
    };
    if (options.ids) {
      for (const id of options.ids) {
        const raw = (await redis.xrange(DLQ_STREAM, id, id)) as [string, string[]][];
        if (raw[0]) await handle(raw[0][0], raw[0][1]);
        else result.skipped.push({ id, error: 'no such entry in the DLQ' });
      }
      return result;
    }
    if (!options.all && !options.reason) throw new Error('replay needs ids, all or a reason');
    // Collect ids first: replayed entries are deleted while we walk.
    const chosen: [string, string[]][] = [];
    for await (const entry of dlqEntries(redis)) {
      if (options.reason && fieldValue(entry[1], 'reason') !== options.reason) continue;
      chosen.push(entry);
    }
    for (const [id, fields] of chosen) await handle(id, fields);
    return result;
  }

  /**
   * Replays the letters after `after` (every letter, without it) that a worker refused only because
   * it did not know their entry version, when this code reads them (replay decodes each letter
   * first; one it still cannot read stays where it is). During a rolling upgrade the older workers
   * still running dead-letter what the newer APIs append; the newer workers put it back this way,
   * so nothing waits for a manual replay. Returns how many went back and the last letter looked at
   * (where the next call starts).
   */
  async function recoverUnreadVersions(after?: string): Promise<{ recovered: number; last: string | undefined }> {
    let recovered = 0;
    let last = after;
    for await (const [id, fields] of dlqEntries(redis, after)) {
      last = id;
      if (fieldValue(fields, 'reason') !== 'decode_error') continue;
      if (!fieldValue(fields, 'error')?.startsWith(UNSUPPORTED_VERSION_ERROR)) continue;
      if ((await replayOne(id, fields)) === undefined) recovered++;
    }
    return { recovered, last };
  }

  /** Deletes entries dead-lettered more than `olderThanMs` ago; returns how many. */
  async function purge(olderThanMs: number, now: number = Date.now()): Promise<number> {
    return Number(await redis.xtrim(DLQ_STREAM, 'MINID', `${Math.max(0, Math.floor(now - olderThanMs))}-0`));
  }

  return { list, show, count, replay, recoverUnreadVersions, purge };
}
export type DlqTool = ReturnType<typeof createDlqTool>;

/** Parses a duration like `90s`, `30m`, `12h`, `7d` into milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}
