import { eventSource } from './event-source.ts';
import { createParams } from './query-filters.ts';
import type { QueryClient } from './query-runner.ts';
import { checkBucketCount, checkResultRows, INTERVAL_MS, listBuckets, resolveRange } from './query-time.ts';
import type { RetentionRequest } from './query.schemas.ts';

export interface RetentionResult {
  cohorts: { start: string; size: number; returned: number[] }[];
  meta: { source: 'rollup' | 'events'; approximate: boolean };
}

const DAY_MS = 86_400_000;

/**
 * Retention. A user's cohort is the period (day or week, in the query time zone; weeks start on
 * Monday) of their first cohort event in [from, to). returned[k] counts cohort users with at
 * least one return event in the k-th period after the cohort period; k = 0 is the cohort period
 * itself and counts a return event anywhere in it, before or after the cohort event (day-level
 * data is enough to answer it, so UTC queries read the user-day rollup). Return events are read
 * up to the end of the last reported period, past `to`; periods that have not ended yet count
 * the returns so far. With count_by person, a user is a person (all its distinct ids); bot events
 * are left out unless include_bots (both read raw events).
 */
export async function queryRetention(client: QueryClient, projectId: string, request: RetentionRequest): Promise<RetentionResult> {
  const range = await resolveRange(client, request.from, request.to, request.timezone);
  checkBucketCount(range, request.period);
  const cohortBuckets = await listBuckets(client, range, request.period, request.timezone);
  // Per cohort: its size and one count per period.
  checkResultRows(
    cohortBuckets.length * (request.periods + 1),
    'periods',
    `cells (${cohortBuckets.length} cohorts × ${request.periods + 1})`,
    'use fewer periods, weekly cohorts or a shorter range',
  );
  const firstStart = cohortBuckets[0]!.utc;
  // The last period reported ends at most `periods` periods after the last cohort starts (+1 h for DST).
  const returnTo = new Date(range.toMs + request.periods * INTERVAL_MS[request.period] + 3_600_000).toISOString();
  const p = createParams([projectId, request.period, request.periods, request.cohort_event, request.return_event]);
  const periodSeconds = INTERVAL_MS[request.period] / 1000;
  // The user-day rollup holds UTC days: usable when periods and both ends of the range are whole UTC days.
  const wholeDay = (ms: number, iso: string) => ms % DAY_MS === 0 && iso.slice(23, 26) === '000';
  // It holds the distinct ids of non-bot events.
  const useRollup =
    request.timezone === 'UTC' &&
    wholeDay(range.fromMs, range.from) &&
    wholeDay(range.toMs, range.to) &&
    request.count_by === 'distinct_id' &&
    !request.include_bots;
  const source = eventSource({ includeBots: request.include_bots, byPerson: request.count_by === 'person' });
  const day = (iso: string) => p.add(iso.slice(0, 10));
  // Per user: cohort = period of the first cohort event; returns = distinct periods with a return
  // event. From the rollup, periods are computed on dates (no time zone arithmetic per row).
  const cohortSql = useRollup
    ? `SELECT distinct_id, date_trunc($2, min(day)::timestamp) AT TIME ZONE 'UTC' AS start FROM event_user_days
       WHERE project_id = $1 AND event = $4 AND day >= ${day(range.from)}::date AND day < ${day(range.to)}::date GROUP BY distinct_id`
    : `SELECT distinct_id, date_trunc($2, min("timestamp"), ${p.add(request.timezone)}) AS start FROM ${source}
       WHERE project_id = $1 AND event = $4 AND "timestamp" >= ${p.add(range.from)}::timestamptz AND "timestamp" < ${p.add(range.to)}::timestamptz
       GROUP BY distinct_id`;
  const returnsSql = useRollup
    ? `SELECT DISTINCT distinct_id, date_trunc($2, day::timestamp) AT TIME ZONE 'UTC' AS period FROM event_user_days
       WHERE project_id = $1 AND event = $5 AND day >= ${day(firstStart)}::date AND day < ${day(returnTo)}::date`
    : `SELECT DISTINCT distinct_id, date_trunc($2, "timestamp", ${p.add(request.timezone)}) AS period FROM ${source}
       WHERE project_id = $1 AND event = $5 AND "timestamp" >= ${p.add(firstStart)}::timestamptz AND "timestamp" < ${p.add(returnTo)}::timestamptz`;
  const { rows } = await client.query<{ start: string; k: number; n: string }>(
    `WITH cohort AS MATERIALIZED (${cohortSql}),
     returns AS MATERIALIZED (${returnsSql}),
     offsets AS (
       SELECT c.start, round(extract(epoch FROM r.period - c.start) / ${p.add(periodSeconds)})::int AS k, count(*) AS n
       FROM cohort c JOIN returns r ON r.distinct_id = c.distinct_id AND r.period >= c.start
       GROUP BY 1, 2)
     SELECT to_char(start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS start, -1 AS k, count(*)::text AS n FROM cohort GROUP BY 1
     UNION ALL
     SELECT to_char(start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), k, n::text FROM offsets WHERE k < $3`,
    p.values,
  );
  const index = new Map(cohortBuckets.map((b, i) => [b.utc, i]));
  const cohorts = cohortBuckets.map((b) => ({ start: b.t, size: 0, returned: Array.from({ length: request.periods }, () => 0) }));
  for (const row of rows) {
    const cohort = cohorts[index.get(row.start) ?? -1];
    if (!cohort) continue;
    if (row.k === -1) cohort.size = Number(row.n);
    else cohort.returned[row.k] = Number(row.n);
  }
  return { cohorts, meta: { source: useRollup ? 'rollup' : 'events', approximate: false } };
}
