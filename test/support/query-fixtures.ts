import type pg from 'pg';
import { expect } from 'vitest';
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
 * Inserts events straight into PostgreSQL (daily partitions created first), in one INSERT: the
 * rollup trigger sees them exactly as it sees a worker batch. Returns the event ids.
 */
export async function insertEvents(pool: pg.Pool, projectId: string, events: readonly FixtureEvent[]): Promise<string[]> {
  const days = [...new Set(events.map((e) => new Date(e.at).toISOString().slice(0, 10)))];
  for (const day of days) await pool.query('SELECT eap_ensure_event_partition($1::date)', [day]);
  const ids = events.map((e) => e.id ?? `fx-${process.pid}-${seq++}`);
  await pool.query(
    `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at, properties)
     SELECT $1, id, event, distinct_id, t, t, props
     FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[]) AS x(id, event, distinct_id, t, props)
     ON CONFLICT DO NOTHING`,
    [
      projectId,
      ids,
      events.map((e) => e.event),
      events.map((e) => e.user),
      events.map((e) => e.at),
      events.map((e) => JSON.stringify(e.properties ?? {})),
    ],
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
