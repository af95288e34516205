import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  encodeStreamEntry,
  encodeStreamEntryOf,
  parseStreamGroups,
  shardBacklog,
  type StreamEvent,
  streamEntryDataOf,
  streamKey,
  streamKeys,
} from '@eap/core';
import type pg from 'pg';
import { waitFor } from './test-api.ts';

/** A valid stream event (as the API would write it) with overridable fields. */
export function streamEvent(projectId: string, overrides: Partial<StreamEvent> = {}): StreamEvent {
  const now = new Date().toISOString();
  return {
    project_id: projectId,
    event_id: randomUUID(),
    event: 'page_view',
    distinct_id: 'user-1',
    timestamp: now,
    client_timestamp: null,
    sent_at: null,
    received_at: now,
    session_id: null,
    properties: { path: '/' },
    context: null,
    ...overrides,
  };
}

/** Appends events straight to a shard stream (bypassing the API) and returns their entry ids. */
export async function appendEvents(redis: Redis, events: StreamEvent[], shard = 0): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (const e of events) pipeline.xadd(streamKey(shard), '*', ...encodeStreamEntry(streamEntryDataOf(e)));
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, id]) => {
    if (error) throw error;
    return String(id);
  });
}

/** Appends events as one entry (as the API appends a request's events of one shard) and returns its id. */
export async function appendRequest(redis: Redis, events: StreamEvent[], shard = 0): Promise<string> {
  return String(await redis.xadd(streamKey(shard), '*', ...encodeStreamEntryOf(events.map((e) => streamEntryDataOf(e)))));
}

/** Appends a raw entry with arbitrary fields. */
export async function appendRaw(redis: Redis, fields: string[], shard = 0): Promise<string> {
  return String(await redis.xadd(streamKey(shard), '*', ...fields));
}

export async function countRows(pool: pg.Pool, projectId?: string): Promise<number> {
  const { rows } = projectId
    ? await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [projectId])
    : await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  return rows[0]!.n;
}

export async function totalStreamLength(redis: Redis, shards = 4): Promise<number> {
  let n = 0;
  for (const key of streamKeys(shards)) n += await redis.xlen(key);
  return n;
}

/** Every entry of the dead-letter stream as a field map. */
export async function dlqEntries(redis: Redis): Promise<Map<string, string>[]> {
  const raw = (await redis.xrange('eap:dlq', '-', '+')) as [string, string[]][];
  return raw.map(([, fields]) => {
    const m = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
    return m;
  });
}

/** Waits until every entry of the `shards` streams was delivered, written and acknowledged, so a row count is final. */
export async function waitUntilDrained(redis: Redis, shards = 4): Promise<void> {
  await waitFor(
    async () => {
      const backlogs = await Promise.all(
        streamKeys(shards).map(async (key) => shardBacklog(parseStreamGroups(await redis.xinfo('GROUPS', key)), await redis.xlen(key))),
      );
      return backlogs.every((b) => b === 0);
    },
    20_000,
    'the streams drained',
  );
}
