import { eventSource, hasPersonFilters } from './event-source.ts';
import { createParams, filtersSql } from './query-filters.ts';
import type { QueryClient } from './query-runner.ts';
import { alignedCore, resolveRange } from './query-time.ts';
import type { FunnelRequest, PropertyFilter } from './query.schemas.ts';
import { OTHER_VALUE } from './trends.query.ts';

const DAY_MS = 86_400_000;

interface Step {
  event: string;
  filters: PropertyFilter[] | undefined;
}

export interface FunnelStepResult {
  event: string;
  count: number;
  conversion: number;
  conversion_from_previous: number;
}

export interface FunnelResult {
  steps: FunnelStepResult[];
  breakdown?: { breakdown_value: string | null; other?: boolean; steps: FunnelStepResult[] }[];
  meta: { source: 'rollup' | 'events'; approximate: boolean };
}

/**
 * Ordered funnel. For each user: t1 = their first step-1 event in [from, to); step k is their
 * first step-k event at or after the time of step k-1 (strictly after when the same event name
 * appeared earlier in the funnel, so one event never counts twice) and at most window_seconds
 * after t1 (inclusive). Each user counts once per step. Later steps may fall after `to` (up to
 * the window), so users who start near the end of the range get their full window.
 *
 * One CTE per step: the previous step's users joined to this step's events by user, each scan
 * bounded by literal times (partition pruning) and served by the (project_id, event, "timestamp")
 * INCLUDE (distinct_id, is_bot) index. Step 1, without filters or breakdown, reads each user's earliest
 * `first_at` from the user-day rollup for the whole UTC days of the range (raw events for the
 * partial days at its edges) instead of every step-1 event.
 *
 * With count_by person, a user is a person: every distinct id linked to it counts as the same
 * user, so a funnel started under an anonymous id and finished after $identify counts once
 * (raw events, each joined to its person by distinct id). Bot events are left out unless
 * include_bots.
 */
export async function queryFunnel(client: QueryClient, projectId: string, request: FunnelRequest): Promise<FunnelResult> {
  const range = await resolveRange(client, request.from, request.to, request.timezone);
  const steps: Step[] = request.steps.map((s) =>
    typeof s === 'string' ? { event: s, filters: undefined } : { event: s.event, filters: s.filters },
  );
  const p = createParams([
    projectId,
    range.from,
    new Date(range.toMs + request.window_seconds * 1000).toISOString(),
    request.window_seconds,
  ]);
  const bv = request.breakdown ? `properties ->> ${p.add(request.breakdown)}::text` : 'NULL::text';
  const first = steps[0]!;
  const e1 = p.add(first.event);
  const core = alignedCore(range, DAY_MS);
  const byPerson = request.count_by === 'person';
  const source = (alias?: string) =>
    eventSource({ includeBots: request.include_bots, byPerson, personProperties: hasPersonFilters(...steps.map((s) => s.filters)) }, alias);
  // The rollup holds distinct ids of non-bot events.
  const fromRollup =
    !request.breakdown && !(first.filters && first.filters.length > 0) && core !== null && !byPerson && !request.include_bots;
  let s1: string;
  if (fromRollup) {
    // Each user's first step-1 time is the earliest `first_at` of their user-day rows for the
    // whole UTC days of the range, or an earlier raw event on a partial first or last day.
    const raw = (from: string, to: string) =>
      `SELECT distinct_id, "timestamp" AS t FROM ${source()}
       WHERE project_id = $1 AND event = ${e1} AND "timestamp" >= ${p.add(from)}::timestamptz AND "timestamp" < ${p.add(to)}::timestamptz`;
    const parts = [
      `SELECT distinct_id, first_at AS t FROM event_user_days
       WHERE project_id = $1 AND event = ${e1} AND day >= ${p.add(core.coreFrom.slice(0, 10))}::date AND day < ${p.add(core.coreTo.slice(0, 10))}::date`,
      ...(core.leftEdge ? [raw(range.from, core.coreFrom)] : []),
      ...(core.rightEdge ? [raw(core.coreTo, range.to)] : []),
    ];
    s1 = `s1 AS MATERIALIZED (
       SELECT distinct_id, min(t) AS t1, NULL::text AS bv, min(t) AS t FROM (${parts.join(' UNION ALL ')}) u GROUP BY distinct_id)`;
  } else if (request.breakdown) {
    // DISTINCT ON keeps each user's first step-1 event, with its breakdown value.
    s1 = `s1 AS MATERIALIZED (
       SELECT DISTINCT ON (distinct_id) distinct_id, "timestamp" AS t1, ${bv} AS bv, "timestamp" AS t
       FROM ${source()}
       WHERE project_id = $1 AND event = ${e1} AND "timestamp" >= $2::timestamptz AND "timestamp" < ${p.add(range.to)}::timestamptz${filtersSql(p, first.filters)}
       ORDER BY distinct_id, "timestamp")`;
  } else {
    s1 = `s1 AS MATERIALIZED (
       SELECT distinct_id, min("timestamp") AS t1, NULL::text AS bv, min("timestamp") AS t
       FROM ${source()}
       WHERE project_id = $1 AND event = ${e1} AND "timestamp" >= $2::timestamptz AND "timestamp" < ${p.add(range.to)}::timestamptz${filtersSql(p, first.filters)}
       GROUP BY distinct_id)`;
  }
  const ctes = [s1];
  for (let k = 1; k < steps.length; k++) {
    const step = steps[k]!;
    const repeated = steps.slice(0, k).some((s) => s.event === step.event);
    ctes.push(
      `s${k + 1} AS MATERIALIZED (
         SELECT prev.distinct_id, prev.t1, prev.bv, min(e."timestamp") AS t
         FROM s${k} prev JOIN ${source('e')} ON e.distinct_id = prev.distinct_id
         WHERE e.project_id = $1 AND e.event = ${p.add(step.event)} AND e."timestamp" >= $2::timestamptz AND e."timestamp" <= $3::timestamptz
           AND e."timestamp" ${repeated ? '>' : '>='} prev.t AND e."timestamp" <= prev.t1 + make_interval(secs => $4)${filtersSql(p, step.filters, 'e.')}
         GROUP BY 1, 2, 3)`,
    );
  }
  const counts = steps.map((_, k) => `SELECT bv, ${k} AS k, count(*) AS n FROM s${k + 1} GROUP BY bv`).join(' UNION ALL ');
  // With a breakdown, values are ranked by users at step 1 and those outside the top N folded
  // into "$other" here in PostgreSQL: at most (N + 2) rows per step reach the API, however many
  // distinct values there are. A user has one value, so counts add up. The counts are joined
  // with the top N only (computed once), so even a nested loop costs rows × N.
  const limit = request.breakdown ? p.add(request.breakdown_limit) : '';
  const sql = request.breakdown
    ? `WITH ${ctes.join(',\n')},
       counts AS (${counts}),
       top AS MATERIALIZED (
         SELECT bv FROM (SELECT bv, row_number() OVER (ORDER BY count(*) DESC, bv) AS rank FROM s1 WHERE bv IS NOT NULL GROUP BY bv) ranked
         WHERE rank <= ${limit})
       SELECT CASE WHEN c.bv IS NULL OR top.bv IS NOT NULL THEN c.bv ELSE '${OTHER_VALUE}' END AS bv,
              c.bv IS NOT NULL AND top.bv IS NULL AS other, c.k, sum(c.n)::text AS n
       FROM counts c LEFT JOIN top ON top.bv = c.bv GROUP BY 1, 2, 3`
    : `WITH ${ctes.join(',\n')}\nSELECT bv, false AS other, k, n::text AS n FROM (${counts}) c`;
  const { rows } = await client.query<{ bv: string | null; other: boolean; k: number; n: string }>(sql, p.values);
  const byValue = new Map<string, { bv: string | null; other: boolean; counts: number[] }>();
  for (const row of rows) {
    const key = JSON.stringify([row.bv, row.other]);
    const group = byValue.get(key) ?? { bv: row.bv, other: row.other, counts: steps.map(() => 0) };
    byValue.set(key, group);
    group.counts[row.k] = Number(row.n);
  }
  const perValue = [...byValue.values()];
  const total = steps.map((_, k) => perValue.reduce((sum, v) => sum + v.counts[k]!, 0));
  const result: FunnelResult = {
    steps: withConversion(steps, total),
    meta: { source: fromRollup ? 'rollup' : 'events', approximate: false },
  };
  if (request.breakdown) result.breakdown = breakdownGroups(steps, perValue);
  return result;
}

function withConversion(steps: Step[], counts: number[]): FunnelStepResult[] {
  const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);
  return steps.map((s, k) => ({
    event: s.event,
    count: counts[k]!,
    conversion: ratio(counts[k]!, counts[0]!),
    conversion_from_previous: k === 0 ? (counts[0]! > 0 ? 1 : 0) : ratio(counts[k]!, counts[k - 1]!),
  }));
}

/** The top N values by users at step 1 (already chosen in PostgreSQL), then null, then "$other". */
function breakdownGroups(steps: Step[], perValue: { bv: string | null; other: boolean; counts: number[] }[]) {
  const valued = perValue
    .filter((v) => v.bv !== null && !v.other)
    .sort((a, b) => b.counts[0]! - a.counts[0]! || String(a.bv).localeCompare(String(b.bv)));
  const groups: { breakdown_value: string | null; other?: boolean; steps: FunnelStepResult[] }[] = valued.map((v) => ({
    breakdown_value: v.bv,
    steps: withConversion(steps, v.counts),
  }));
  const none = perValue.find((v) => v.bv === null);
  if (none) groups.push({ breakdown_value: null, steps: withConversion(steps, none.counts) });
  const rest = perValue.find((v) => v.other);
  if (rest) groups.push({ breakdown_value: OTHER_VALUE, other: true, steps: withConversion(steps, rest.counts) });
  return groups;
}
