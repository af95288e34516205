import { randomUUID } from 'node:crypto';
import type { StreamEvent } from '@eap/core';
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
