import { eventSource, hasPersonFilters } from './event-source.ts';
import { createParams, filtersSql, type Params, propertyNumber } from './query-filters.ts';
import type { QueryClient } from './query-runner.ts';
import {
  alignedCore,
  type Bucket,
  bucketsOnUtcDays,
  bucketsOnUtcHours,
  checkBucketCount,
  checkResultRows,
  listBuckets,
  resolveRange,
  type TimeRange,
} from './query-time.ts';
import type { TrendsRequest } from './query.schemas.ts';

export const OTHER_VALUE = '$other';

interface Row {
  event: string;
  b: string;
  t: string;
  value: string;
  bv?: string | null;
  other?: boolean;
}

export interface TrendsSeries {
  event: string;
  breakdown_value?: string | null;
  other?: boolean;
  points: { t: string; value: number }[];
}

export interface TrendsResult {
  series: TrendsSeries[];
  meta: { source: 'rollup' | 'events'; approximate: boolean };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Raw events at the edges of a rollup-backed answer: like the rollups, without bot events. */
const NON_BOT_EVENTS = eventSource({ includeBots: false });

/** `"timestamp"` in [from, to): literal parameters, so PostgreSQL prunes the daily partitions. */
const inRange = (p: Params, from: string, to: string, alias = '') =>
  `${alias}"timestamp" >= ${p.add(from)}::timestamptz AND ${alias}"timestamp" < ${p.add(to)}::timestamptz`;

/**
 * Trends: one series per event (and per breakdown value), one point per bucket of the query
 * time zone, empty buckets included as 0. Answered from the rollups when they hold the answer
 * (count or unique users, no filter, no breakdown, buckets aligned with their UTC hours or days;
 * the partial hours or days at the edges of the range are read from raw events), otherwise
 * from raw events of the range only. Unique users count distinct ids, or persons with count_by
 * person (raw events joined to persons). Bot events are left out unless include_bots (the
 * rollups hold none; with include_bots the answer comes from raw events).
 */
export async function queryTrends(client: QueryClient, projectId: string, request: TrendsRequest): Promise<TrendsResult> {
  const range = await resolveRange(client, request.from, request.to, request.timezone);
  checkBucketCount(range, request.interval);
  const buckets = await listBuckets(client, range, request.interval, request.timezone);
  // Each series has a point per bucket: per event, one series, or with a breakdown the top N,
  // the null series and "$other".
  const series = request.events.length * (request.breakdown ? request.breakdown_limit + 2 : 1);
  checkResultRows(
    series * buckets.length,
    'interval',
    `points (${series} series × ${buckets.length} ${request.interval} buckets)`,
    'use fewer events, a smaller breakdown_limit, a longer interval or a shorter range',
  );
  // The rollups count the distinct ids of non-bot events.
  const plain = !request.breakdown && !(request.filters && request.filters.length > 0) && !request.include_bots;
  let rows: Row[];
  let source: 'rollup' | 'events' = 'events';
  if (plain && request.measure === 'count' && bucketsOnUtcHours(buckets)) {
    rows = await countFromRollup(client, projectId, request, range);
    source = 'rollup';
  } else if (
    plain &&
    request.measure === 'unique_users' &&
    request.count_by === 'distinct_id' &&
    request.interval !== 'minute' &&
    request.interval !== 'hour' &&
    bucketsOnUtcDays(buckets)
  ) {
    rows = await usersFromRollup(client, projectId, request, range);
    source = 'rollup';
  } else {
    rows = await fromEvents(client, projectId, request, range);
  }
  return { series: assemble(request, buckets, rows), meta: { source, approximate: false } };
}

/** Sums hourly rollup rows for the whole hours of the range, raw events for the partial hours. */
async function countFromRollup(client: QueryClient, projectId: string, r: TrendsRequest, range: TimeRange): Promise<Row[]> {
  const p = createParams([projectId, r.events, r.interval, r.timezone]);
  const core = alignedCore(range, HOUR_MS);
  const raw = (from: string, to: string) =>
    `SELECT event, date_trunc($3, "timestamp", $4) AS b, count(*) AS value FROM ${NON_BOT_EVENTS}
     WHERE project_id = $1 AND event = ANY($2::text[]) AND ${inRange(p, from, to)} GROUP BY 1, 2`;
  const parts = core
    ? [
        `SELECT event, date_trunc($3, hour, $4) AS b, sum(events) AS value FROM event_counts_hourly
         WHERE project_id = $1 AND event = ANY($2::text[]) AND hour >= ${p.add(core.coreFrom)}::timestamptz AND hour < ${p.add(core.coreTo)}::timestamptz
         GROUP BY 1, 2`,
        ...(core.leftEdge ? [raw(range.from, core.coreFrom)] : []),
        ...(core.rightEdge ? [raw(core.coreTo, range.to)] : []),
      ]
    : [raw(range.from, range.to)];
  const { rows } = await client.query<Row>(
    `SELECT event, ${isoUtcB} AS b, sum(value)::text AS value FROM (${parts.join(' UNION ALL ')}) u GROUP BY 1, 2`,
    p.values,
  );
  return rows;
}

/**
 * Unique users per bucket from the rollups (buckets are whole UTC days): the days fully inside
 * the range from the rollups — daily buckets read the per-day counts, weekly and monthly ones
 * count distinct users over the user-day rows — and the partial first and last days from raw
 * events. Each (event, day, user) appears once, so per-day figures add up within a day bucket.
 */
async function usersFromRollup(client: QueryClient, projectId: string, r: TrendsRequest, range: TimeRange): Promise<Row[]> {
  const p = createParams([projectId, r.events, r.interval, r.timezone]);
  const core = alignedCore(range, DAY_MS);
  const daily = r.interval === 'day';
  const edges = core
    ? [...(core.leftEdge ? [[range.from, core.coreFrom]] : []), ...(core.rightEdge ? [[core.coreTo, range.to]] : [])]
    : [[range.from, range.to]];
  const raw = ([from, to]: string[]) =>
    daily
      ? `SELECT event, ("timestamp" AT TIME ZONE 'UTC')::date AS day, count(DISTINCT distinct_id) AS users FROM ${NON_BOT_EVENTS}
         WHERE project_id = $1 AND event = ANY($2::text[]) AND ${inRange(p, from!, to!)} GROUP BY 1, 2`
      : `SELECT DISTINCT event, ("timestamp" AT TIME ZONE 'UTC')::date AS day, distinct_id FROM ${NON_BOT_EVENTS}
         WHERE project_id = $1 AND event = ANY($2::text[]) AND ${inRange(p, from!, to!)}`;
  const coreDays = core ? `day >= ${p.add(core.coreFrom.slice(0, 10))}::date AND day < ${p.add(core.coreTo.slice(0, 10))}::date` : '';
  const parts = [
    ...(core
      ? [
          daily
            ? `SELECT event, day, sum(users) AS users FROM event_users_daily WHERE project_id = $1 AND event = ANY($2::text[]) AND ${coreDays} GROUP BY 1, 2`
            : `SELECT event, day, distinct_id FROM event_user_days WHERE project_id = $1 AND event = ANY($2::text[]) AND ${coreDays}`,
        ]
      : []),
    ...edges.map(raw),
  ];
  const measure = daily ? 'sum(users)' : 'count(DISTINCT distinct_id)';
  const { rows } = await client.query<Row>(
    `SELECT event, ${isoUtcB} AS b, value::text AS value FROM (
       SELECT event, date_trunc($3, (day::timestamp AT TIME ZONE 'UTC'), $4) AS b, ${measure} AS value
       FROM (${parts.join(' UNION ALL ')}) u GROUP BY 1, 2) g`,
    p.values,
  );
  return rows;
}

const isoUtcB = `to_char(b AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function measureSql(r: TrendsRequest): string {
  switch (r.measure) {
    case 'count':
      return 'count(*)';
    case 'unique_users':
      return 'count(DISTINCT distinct_id)';
    case 'sum':
      return `coalesce(sum(num), 0)`;
    case 'avg':
      return `coalesce(avg(num), 0)`;
  }
}

/**
 * Raw events of the range (partitions outside it are pruned). With a breakdown, each event's
 * values are ranked by number of events; the top N keep their own series, the others are summed
 * into "$other" (unique users of "$other" are counted over all its values together, not summed),
 * and events without the property (or with null) form the null series. The ranking and the
 * folding happen in PostgreSQL: whatever the number of distinct values, the API receives at most
 * (N + 2) rows per event and bucket.
 */
async function fromEvents(client: QueryClient, projectId: string, r: TrendsRequest, range: TimeRange): Promise<Row[]> {
  const p = createParams([projectId, r.events, r.interval, r.timezone]);
  const num = r.property ? propertyNumber(p, r.property) : 'NULL::numeric';
  const bv = r.breakdown ? `properties ->> ${p.add(r.breakdown)}::text` : 'NULL::text';
  const where = `project_id = $1 AND event = ANY($2::text[]) AND ${inRange(p, range.from, range.to)}${filtersSql(p, r.filters)}`;
  const measure = measureSql(r);
  const source = eventSource({
    includeBots: r.include_bots,
    byPerson: r.measure === 'unique_users' && r.count_by === 'person',
    personProperties: hasPersonFilters(r.filters),
  });
  if (!r.breakdown) {
    const { rows } = await client.query<Row>(
      `SELECT event, ${isoUtcB} AS b, value::text AS value FROM (
         SELECT event, date_trunc($3, "timestamp", $4) AS b, ${measure} AS value
         FROM (SELECT event, "timestamp", distinct_id, ${num} AS num FROM ${source} WHERE ${where}) e GROUP BY 1, 2) g`,
      p.values,
    );
    return rows;
  }
  if (r.measure !== 'unique_users') return foldedBreakdown(client, p, r, source, where, num, bv);
  // Unique users do not add up across values: each event row is labelled with its value, or
  // "$other" when the value is not among the top N, then users are counted per label. The rows
  // are joined with the top N only (at most N per event, computed once), never with every
  // value: without statistics on a new partition the planner may pick a nested loop, whose cost
  // then stays rows × N instead of rows × values.
  const limit = p.add(r.breakdown_limit);
  const { rows } = await client.query<Row>(
    `WITH base AS MATERIALIZED (
       SELECT event, date_trunc($3, "timestamp", $4) AS b, distinct_id, ${bv} AS bv FROM ${source} WHERE ${where}),
     top AS MATERIALIZED (
       SELECT event, bv FROM (
         SELECT event, bv, row_number() OVER (PARTITION BY event ORDER BY count(*) DESC, bv) AS rank
         FROM base WHERE bv IS NOT NULL GROUP BY event, bv) ranked
       WHERE rank <= ${limit})
     SELECT event, ${isoUtcB} AS b, bv, other, value::text AS value FROM (
       SELECT base.event, base.b,
              CASE WHEN base.bv IS NULL OR top.bv IS NOT NULL THEN base.bv ELSE '${OTHER_VALUE}' END AS bv,
              base.bv IS NOT NULL AND top.bv IS NULL AS other,
              ${measure} AS value
       FROM base LEFT JOIN top ON top.event = base.event AND top.bv = base.bv
       GROUP BY 1, 2, 3, 4) g`,
    p.values,
  );
  return rows;
}

/** An additive measure recomputed from per-value partial aggregates (n events, total and count of the numbers). */
function foldedMeasure(r: TrendsRequest): string {
  switch (r.measure) {
    case 'sum':
      return 'coalesce(sum(total), 0)';
    case 'avg':
      return 'CASE WHEN sum(nums) = 0 THEN 0 ELSE sum(total) / sum(nums) END';
    default:
      return 'sum(n)';
  }
}

/**
 * Breakdown of an additive measure (count, sum, avg): one pass over the events groups them by
 * (event, bucket, value) with partial aggregates; window functions over those groups total each
 * value and rank it, and the values outside the top N are folded into "$other" (counts and sums
 * add up; an average is recomputed from the folded sums and counts). No join, so no plan can turn
 * many values into values × values work, and the events are read once.
 */
async function foldedBreakdown(
  client: QueryClient,
  p: Params,
  r: TrendsRequest,
  source: string,
  where: string,
  num: string,
  bv: string,
): Promise<Row[]> {
  const limit = p.add(r.breakdown_limit);
  const { rows } = await client.query<Row>(
    `WITH g AS MATERIALIZED (
       SELECT event, date_trunc($3, "timestamp", $4) AS b, ${bv} AS bv, count(*) AS n, sum(${num}) AS total, count(${num}) AS nums
       FROM ${source} WHERE ${where} GROUP BY 1, 2, 3),
     ranked AS (
       -- (value total, value) is the same on every row of a value and differs between values:
       -- dense_rank numbers the values 1, 2, 3, … by events, ties by value.
       SELECT event, b, bv, n, total, nums, dense_rank() OVER (PARTITION BY event ORDER BY vn DESC, bv) AS rank
       FROM (SELECT g.*, sum(n) OVER (PARTITION BY event, bv) AS vn FROM g WHERE bv IS NOT NULL) valued
       UNION ALL
       SELECT event, b, bv, n, total, nums, NULL FROM g WHERE bv IS NULL)
     SELECT event, ${isoUtcB} AS b, bv, other, value::text AS value FROM (
       SELECT event, b,
              CASE WHEN bv IS NULL THEN NULL WHEN rank <= ${limit} THEN bv ELSE '${OTHER_VALUE}' END AS bv,
              coalesce(rank > ${limit}, false) AS other,
              ${foldedMeasure(r)} AS value
       FROM ranked GROUP BY 1, 2, 3, 4) x`,
    p.values,
  );
  return rows;
}

/** Zero-filled series in request order; breakdown series ordered by their total, null and "$other" last. */
function assemble(r: TrendsRequest, buckets: Bucket[], rows: Row[]): TrendsSeries[] {
  const index = new Map(buckets.map((b, i) => [b.utc, i]));
  const series = new Map<string, TrendsSeries & { total: number }>();
  const keyOf = (event: string, bv: string | null | undefined, other: boolean) => JSON.stringify([event, other ? 1 : 0, bv ?? null]);
  for (const row of rows) {
    const i = index.get(row.b);
    if (i === undefined) continue; // cannot happen: buckets cover the range
    const key = keyOf(row.event, row.bv, row.other === true);
    let s = series.get(key);
    if (!s) {
      s = {
        event: row.event,
        ...(r.breakdown ? { breakdown_value: row.other ? OTHER_VALUE : (row.bv ?? null) } : {}),
        ...(row.other ? { other: true } : {}),
        points: buckets.map((b) => ({ t: b.t, value: 0 })),
        total: 0,
      };
      series.set(key, s);
    }
    const value = Number(row.value);
    s.points[i]!.value += value;
    s.total += value;
  }
  const out: TrendsSeries[] = [];
  for (const event of r.events) {
    const mine = [...series.values()].filter((s) => s.event === event);
    if (!r.breakdown) {
      out.push({ event, points: mine[0]?.points ?? buckets.map((b) => ({ t: b.t, value: 0 })) });
      continue;
    }
    const rank = (s: TrendsSeries) => (s.other ? 2 : s.breakdown_value === null ? 1 : 0);
    mine.sort((a, b) => rank(a) - rank(b) || b.total - a.total || String(a.breakdown_value).localeCompare(String(b.breakdown_value)));
    for (const { total: _total, ...s } of mine) out.push(s);
  }
  return out;
}
