import { createParams } from './query-filters.ts';
import { isoUtc, type QueryClient } from './query-runner.ts';
import { invalid, resolveRange } from './query-time.ts';

export interface EventsListRequest {
  from: string;
  to: string;
  timezone: string;
  events: string[] | undefined;
  distinctId: string | undefined;
  /** Property equality conditions (typed JSON equality). */
  properties: Record<string, unknown> | undefined;
  limit: number;
  cursor: string | undefined;
  /** Bot events (events.is_bot) are listed too. */
  includeBots?: boolean;
}

interface Cursor {
  /** Exact UTC time of the last event returned (microseconds). */
  t: string;
  /** Its event_id: (timestamp, event_id) is unique within a project. */
  id: string;
}

/** Opaque cursor: base64url JSON of the last row's (timestamp, event_id). */
export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

export function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof c.t === 'string' && typeof c.id === 'string' && !Number.isNaN(Date.parse(c.t))) return { t: c.t, id: c.id };
  } catch {
    // fall through
  }
  throw invalid('cursor', 'is not a cursor this API returned; pass next_cursor from the previous page unchanged');
}

/**
 * Raw events, newest first, ordered by ("timestamp", event_id) descending: a total order, so
 * keyset pagination returns every event of the range exactly once even when many events share
 * a timestamp (events written while paging appear only if they sort after the cursor).
 */
export async function listEvents(client: QueryClient, projectId: string, r: EventsListRequest) {
  const range = await resolveRange(client, r.from, r.to, r.timezone);
  const p = createParams([projectId, range.from]);
  const cursor = r.cursor === undefined ? undefined : decodeCursor(r.cursor);
  let where = `project_id = $1 AND "timestamp" >= $2::timestamptz AND "timestamp" < ${p.add(range.to)}::timestamptz`;
  if (cursor) {
    const t = p.add(cursor.t);
    // The plain bound lets PostgreSQL prune later partitions; the row comparison does the paging.
    where += ` AND "timestamp" <= ${t}::timestamptz AND ("timestamp", event_id) < (${t}::timestamptz, ${p.add(cursor.id)}::text)`;
  }
  if (!r.includeBots) where += ' AND NOT is_bot';
  if (r.events && r.events.length > 0) where += ` AND event = ANY(${p.add(r.events)}::text[])`;
  if (r.distinctId !== undefined) where += ` AND distinct_id = ${p.add(r.distinctId)}`;
  for (const [key, value] of Object.entries(r.properties ?? {})) {
    where += ` AND properties -> ${p.add(key)}::text = ${p.add(JSON.stringify(value))}::jsonb`;
  }
  const { rows } = await client.query<{
    event_id: string;
    event: string;
    distinct_id: string;
    timestamp: string;
    received_at: string;
    session_id: string | null;
    properties: Record<string, unknown>;
    context: Record<string, unknown> | null;
  }>(
    `SELECT event_id, event, distinct_id, ${isoUtc('"timestamp"')} AS "timestamp", ${isoUtc('received_at')} AS received_at,
            session_id, properties, context
     FROM events WHERE ${where}
     -- Qualified: a bare "timestamp" would mean the formatted output column and sort every row.
     ORDER BY events."timestamp" DESC, events.event_id DESC
     LIMIT ${p.add(r.limit + 1)}`,
    p.values,
  );
  const page = rows.slice(0, r.limit);
  const last = page.at(-1);
  return {
    events: page,
    next_cursor: rows.length > r.limit && last ? encodeCursor({ t: last.timestamp, id: last.event_id }) : null,
  };
}

/** The `properties` query parameter: a JSON object of equality conditions. */
export function parsePropertyEquality(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid('properties', 'must be a JSON object such as {"plan":"pro"}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalid('properties', 'must be a JSON object such as {"plan":"pro"}');
  const entries = Object.entries(parsed);
  if (entries.length > 20) throw invalid('properties', 'at most 20 conditions');
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > 200) throw invalid('properties', 'property names must be 1-200 characters');
    if (value === null || !['string', 'number', 'boolean'].includes(typeof value)) {
      throw invalid(`properties.${key}`, 'must be a string, number or boolean');
    }
  }
  return parsed as Record<string, unknown>;
}
