import { createParams } from './query-filters.ts';
import type { QueryClient } from './query-runner.ts';
import { alignedCore, resolveRange } from './query-time.ts';
import { QUERY_LIMITS } from './query.schemas.ts';

/** Events the property list is read from, at most: enough to see every common property, cheap to read. */
export const SCHEMA_SAMPLE_EVENTS = 10_000;
const TOP_VALUES = 5;
const MAX_PROPERTIES = QUERY_LIMITS.maxSchemaProperties;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * What a project's data looks like: the `limit` most frequent event names in the range with
 * their counts (from the hourly rollup, edges from raw events, so it stays fast over long
 * ranges), and the top-level properties (at most 500) with their JSON types and most frequent
 * values, read from a sample: up to 10,000 events of the last day of the range. Both lists are
 * cut in PostgreSQL (one row more is read to tell whether there were more: `truncated`).
 */
export async function querySchema(
  client: QueryClient,
  projectId: string,
  r: { from: string; to: string; timezone: string; limit: number; includeBots?: boolean },
) {
  // The hourly rollup holds non-bot events only: with bots included, counts come from raw events.
  const bots = r.includeBots ? '' : ' AND NOT is_bot';
  const range = await resolveRange(client, r.from, r.to, r.timezone);
  const p = createParams([projectId]);
  const raw = (from: string, to: string) =>
    `SELECT event, count(*) AS n FROM events WHERE project_id = $1 AND "timestamp" >= ${p.add(from)}::timestamptz AND "timestamp" < ${p.add(to)}::timestamptz${bots} GROUP BY 1`;
  const core = r.includeBots ? null : alignedCore(range, HOUR_MS);
  const parts = core
    ? [
        `SELECT event, sum(events) AS n FROM event_counts_hourly
         WHERE project_id = $1 AND hour >= ${p.add(core.coreFrom)}::timestamptz AND hour < ${p.add(core.coreTo)}::timestamptz GROUP BY 1`,
        ...(core.leftEdge ? [raw(range.from, core.coreFrom)] : []),
        ...(core.rightEdge ? [raw(core.coreTo, range.to)] : []),
      ]
    : [raw(range.from, range.to)];
  const events = await client.query<{ event: string; count: string }>(
    `SELECT event, sum(n)::text AS count FROM (${parts.join(' UNION ALL ')}) u GROUP BY 1 ORDER BY sum(n) DESC, event LIMIT ${p.add(r.limit + 1)}`,
    p.values,
  );

  const sampleFrom = range.toMs - DAY_MS > range.fromMs ? new Date(range.toMs - DAY_MS).toISOString() : range.from;
  const s = createParams([projectId, sampleFrom, range.to, SCHEMA_SAMPLE_EVENTS]);
  const props = await client.query<{
    property: string;
    types: string[];
    count: string;
    top: { value: unknown; count: number }[] | null;
    sampled: string;
  }>(
    `WITH sample AS MATERIALIZED (
       SELECT properties FROM events
       WHERE project_id = $1 AND "timestamp" >= $2::timestamptz AND "timestamp" < $3::timestamptz${bots} LIMIT $4),
     kv AS (SELECT key, value FROM sample, jsonb_each(sample.properties)),
     keys AS (SELECT key, array_agg(DISTINCT jsonb_typeof(value) ORDER BY jsonb_typeof(value)) AS types, count(*) AS n FROM kv GROUP BY key),
     vals AS (
       SELECT key, value, count(*) AS n, row_number() OVER (PARTITION BY key ORDER BY count(*) DESC, value) AS rank
       FROM kv WHERE jsonb_typeof(value) IN ('string', 'number', 'boolean') GROUP BY key, value)
     SELECT keys.key AS property, keys.types, keys.n::text AS count,
            (SELECT jsonb_agg(jsonb_build_object('value', vals.value, 'count', vals.n) ORDER BY vals.rank)
             FROM vals WHERE vals.key = keys.key AND vals.rank <= ${TOP_VALUES}) AS top,
            (SELECT count(*) FROM sample)::text AS sampled
     FROM keys ORDER BY keys.n DESC, keys.key LIMIT ${MAX_PROPERTIES + 1}`,
    s.values,
  );
  return {
    events: events.rows.slice(0, r.limit).map((e) => ({ event: e.event, count: Number(e.count) })),
    properties: props.rows.slice(0, MAX_PROPERTIES).map((row) => ({
      property: row.property,
      types: row.types,
      count: Number(row.count),
      top_values: (row.top ?? []).map((t) => ({ value: t.value as string | number | boolean, count: Number(t.count) })),
    })),
    properties_sample: { events: Number(props.rows[0]?.sampled ?? 0), from: sampleFrom, to: range.to },
    truncated: { events: events.rows.length > r.limit, properties: props.rows.length > MAX_PROPERTIES },
  };
}
