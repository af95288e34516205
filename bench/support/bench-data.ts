import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { encodeStreamEntry, type StreamEvent, shardFor, streamKey } from '@eap/core';
import { createFunnelModel } from '@eap/traffic';

/** Realistic client events from the funnel model (the same generator as `eap seed`). */
export function clientEvents(n: number, seed = 1) {
  return createFunnelModel({ users: 10_000, seed }).next(n);
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

/**
 * Appends `count` events straight to the shard streams (as the API would, without it), in
 * pipelined chunks; `onChunk` reports progress.
 */
export async function fillStreams(redis: Redis, count: number, projectId: string, onChunk?: (done: number) => void): Promise<void> {
  const chunk = 5000;
  for (let done = 0; done < count; done += chunk) {
    const pipeline = redis.pipeline();
    for (const e of streamEvents(Math.min(chunk, count - done), projectId, 3 + done)) {
      pipeline.xadd(streamKey(shardFor(e.project_id, e.distinct_id, 4)), '*', ...encodeStreamEntry(JSON.stringify(e)));
    }
    await pipeline.exec();
    onChunk?.(Math.min(done + chunk, count));
  }
}
