import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { packEntries } from '@eap/api';
import { encodeStreamEntry, type StreamEvent, type StreamRow, shardFor, streamEntryDataOf, streamKey, streamRowOf } from '@eap/core';
import { createFunnelModel } from '@eap/traffic';

/** Realistic client events from the funnel model (the same generator as `eap seed`). */
export function clientEvents(n: number, seed = 1) {
  return createFunnelModel({ users: 10_000, seed }).next(n);
}

/** Events without client timestamps (all events are "now" when sent). */
function eventsOfNow(n: number, seed: number) {
  return clientEvents(n, seed).map(({ timestamp: _t, ...e }) => e);
}

/** Batch request bodies of `batchSize` events each, without client timestamps. */
export function batchBodies(count = 200, batchSize = 100, seed = 2): string[] {
  const events = eventsOfNow(count * batchSize, seed);
  return Array.from({ length: count }, (_, i) => JSON.stringify({ events: events.slice(i * batchSize, (i + 1) * batchSize) }));
}

/**
 * The single-event request bodies of the ingest phase (`POST /v1/events`): the model's events as
 * clients send them, client timestamp included. Every measurement of single-event ingest sends
 * these, so its figures compare with the phase's.
 */
export function ingestBodies(count = 1000, seed = 1): string[] {
  return clientEvents(count, seed).map((e) => JSON.stringify(e));
}

/** Single-event request bodies (`POST /v1/events`), without client timestamps. */
export function singleEventBodies(count = 2000, seed = 2): string[] {
  return eventsOfNow(count, seed).map((e) => JSON.stringify(e));
}

/** The same events as the worker would receive them from the stream. */
export function streamEvents(n: number, projectId: string, seed = 1): StreamEvent[] {
  const now = new Date().toISOString();
  return clientEvents(n, seed).map((e) => ({
    project_id: projectId,
    event_id: randomUUID(),
    event: e.event,
    distinct_id: e.distinct_id,
    timestamp: now,
    client_timestamp: e.timestamp,
    sent_at: null,
    received_at: now,
    session_id: e.session_id,
    properties: e.properties,
    context: e.context ?? null,
  }));
}

/** The same events as the worker writes them (what it decodes from their entries). */
export function streamRows(n: number, projectId: string, seed = 1): StreamRow[] {
  return streamEvents(n, projectId, seed).map(streamRowOf);
}

/** Properties of about 30 KB (under the 32 KiB limit): the largest events the API accepts. */
export function largestProperties(i: number): Record<string, unknown> {
  const properties: Record<string, unknown> = { i };
  for (let k = 0; k < 30; k++) properties[`field_${k}`] = `${i}-${k}-`.padEnd(990, 'abcdefghij');
  return properties;
}

/**
 * Appends `count` events straight to the shard streams (as the API would, without it), in
 * pipelined chunks; `onChunk` reports progress. With `largest`, each event carries about 30 KB
 * of properties. `perRequest` events (1 by default) go in entries as the API packs one request's:
 * one entry per shard, at most 80 KiB each.
 */
export async function fillStreams(
  redis: Redis,
  count: number,
  projectId: string,
  onChunk?: (done: number) => void,
  options: { largest?: boolean; perRequest?: number } = {},
): Promise<void> {
  const chunk = options.largest ? 500 : 5000;
  const perRequest = options.perRequest ?? 1;
  for (let done = 0; done < count; done += chunk) {
    const pipeline = redis.pipeline();
    const events = streamEvents(Math.min(chunk, count - done), projectId, 3 + done).map((e, i) =>
      options.largest ? { ...e, properties: largestProperties(done + i) } : e,
    );
    const prepared = events.map((e) => ({ shard: shardFor(e.project_id, e.distinct_id, 4), data: streamEntryDataOf(e) }));
    for (let start = 0; start < prepared.length; start += perRequest)
      for (const entry of packEntries(prepared.slice(start, start + perRequest)).entries)
        pipeline.xadd(streamKey(entry.shard), '*', ...encodeStreamEntry(entry.data, entry.events));
    await pipeline.exec();
    onChunk?.(Math.min(done + chunk, count));
  }
}
