import type pg from 'pg';
import { expect } from 'vitest';
import { createEventWriter } from '@eap/worker';
import { streamRowOf } from '@eap/core';
import type { TestApi } from './test-api.ts';

/** One event of a query fixture: name, user, exact time, properties. */
export interface FixtureEvent {
  event: string;
  user: string;
  at: string;
  properties?: Record<string, unknown>;
  id?: string;
}

let seq = 0;

/**
 * Stores events in PostgreSQL with the worker's own writer (daily partitions created first): the
 * same deduplication by (project, event_id) and the same rollup trigger as a worker batch.
 * Returns the event ids.
 */
export async function insertEvents(pool: pg.Pool, projectId: string, events: readonly FixtureEvent[]): Promise<string[]> {
  const days = [...new Set(events.map((e) => new Date(e.at).toISOString().slice(0, 10)))];
  for (const day of days) await pool.query('SELECT eap_ensure_event_partition($1::date)', [day]);
  const ids = events.map((e) => e.id ?? `fx-${process.pid}-${seq++}`);
  await createEventWriter(pool).write(
    events.map((e, i) => {
      const at = new Date(e.at).toISOString();
      return streamRowOf({
        project_id: projectId,
        event_id: ids[i]!,
        event: e.event,
        distinct_id: e.user,
        timestamp: at,
        client_timestamp: null,
        sent_at: null,
        received_at: at,
        session_id: null,
        properties: e.properties ?? {},
        context: null,
      });
    }),
  );
  return ids;
}

/** Sends a query with a key; returns status and JSON. */
export function queryClient(api: TestApi, key: string) {
  return {
    post: (path: string, body: unknown) => api.send(`/v1/query/${path}`, { key, body }),
    get: (path: string, params: Record<string, string | string[]> = {}) => {
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(params)) for (const v of ([] as string[]).concat(value)) search.append(name, v);
      return api.send(`/v1/query/${path}?${search}`, { key, method: 'GET' });
    },
  };
}

/** Values of a trends series, by bucket start. */
export function pointsOf(series: { points: { t: string; value: number }[] } | undefined): Record<string, number> {
  expect(series).toBeDefined();
  return Object.fromEntries(series!.points.map((p) => [p.t, p.value]));
}
