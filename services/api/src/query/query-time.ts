import { EapError } from '@eap/core';
import { createParams } from './query-filters.ts';
import { isoLocal, isoUtc, type QueryClient } from './query-runner.ts';
import { QUERY_LIMITS } from './query.schemas.ts';

export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month';

/** A resolved time range: exact UTC instants as text (microseconds) for SQL, and ms for arithmetic. */
export interface TimeRange {
  from: string;
  to: string;
  fromMs: number;
  toMs: number;
}

/** Nominal length of an interval in ms, to estimate bucket counts and extend scan ranges (months: 31 days). */
export const INTERVAL_MS: Record<Interval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 31 * 86_400_000,
};

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function invalid(path: string, message: string): EapError {
  return new EapError('INVALID_QUERY', `${path}: ${message}`, { details: [{ path, message }] });
}

/**
 * Turns the request's `from`/`to` (date-times with a zone, or dates meaning midnight in the
 * query time zone) into exact instants, using PostgreSQL's time zone rules. `from` is inclusive,
 * `to` exclusive; `from` must be before `to`.
 */
export async function resolveRange(client: QueryClient, from: string, to: string, timezone: string): Promise<TimeRange> {
  const p = createParams();
  const expr = (value: string) =>
    DATE_ONLY.test(value) ? `(${p.add(value)}::timestamp AT TIME ZONE ${p.add(timezone)})` : `${p.add(value)}::timestamptz`;
  const fromExpr = expr(from);
  const toExpr = expr(to);
  const { rows } = await client.query<{ from: string; to: string }>(
    `SELECT ${isoUtc(fromExpr)} AS "from", ${isoUtc(toExpr)} AS "to"`,
    p.values,
  );
  const range = rows[0]!;
  const fromMs = Date.parse(range.from);
  const toMs = Date.parse(range.to);
  if (!(fromMs < toMs)) throw invalid('from', `must be before to (from ${range.from}, to ${range.to})`);
  return { from: range.from, to: range.to, fromMs, toMs };
}

/** Refuses ranges that would give more than QUERY_LIMITS.maxBuckets buckets (estimated from nominal lengths). */
export function checkBucketCount(range: TimeRange, interval: Interval): void {
  const nominal = interval === 'month' ? 28 * 86_400_000 : INTERVAL_MS[interval];
  const estimate = Math.ceil((range.toMs - range.fromMs) / nominal) + 1;
  if (estimate > QUERY_LIMITS.maxBuckets) {
    throw invalid(
      'interval',
      `the range gives about ${estimate} ${interval} buckets, more than the ${QUERY_LIMITS.maxBuckets} allowed; use a longer interval or a shorter range`,
    );
  }
}

/**
 * Refuses a query whose answer would have more than QUERY_LIMITS.maxResultRows rows (`what`
 * says how they add up), before PostgreSQL computes anything: the rows PostgreSQL sends and the
 * API assembles stay bounded, whatever the data holds.
 */
export function checkResultRows(rows: number, path: string, what: string, remedy: string): void {
  if (rows > QUERY_LIMITS.maxResultRows) {
    throw invalid(path, `the answer would have ${rows} ${what}, more than the ${QUERY_LIMITS.maxResultRows} allowed; ${remedy}`);
  }
}

export interface Bucket {
  /** Bucket start in the query time zone (ISO 8601 with offset), as returned to clients. */
  t: string;
  /** Bucket start as an exact UTC instant. */
  utc: string;
}

/** Grid step that puts at least one point in every bucket (local hours can be 30 min apart from UTC ones). */
const GRID_STEP: Record<Interval, string> = { minute: '1 minute', hour: '15 minutes', day: '1 hour', week: '1 hour', month: '1 hour' };

/**
 * Every bucket overlapping [from, to), in order: the first may start before `from` and the last
 * may end after `to` (they only count events in range). Buckets are computed by applying the
 * same date_trunc(interval, t, timezone) used on events to a grid of instants covering the
 * range, so they follow the time zone's rules (23- and 25-hour days at DST changes, two local
 * 01:00 hours when clocks go back) exactly as the events are bucketed.
 */
export async function listBuckets(client: QueryClient, range: TimeRange, interval: Interval, timezone: string): Promise<Bucket[]> {
  const p = createParams();
  const unit = p.add(interval);
  const tz = p.add(timezone);
  const from = p.add(range.from);
  const last = `(${p.add(range.to)}::timestamptz - interval '1 microsecond')`;
  const { rows } = await client.query<Bucket>(
    `SELECT ${isoLocal('b')} AS t, ${isoUtc('b')} AS utc
     FROM (SELECT DISTINCT date_trunc(${unit}, g, ${tz}) AS b
           FROM (SELECT generate_series(${from}::timestamptz, ${last}, ${p.add(GRID_STEP[interval])}::interval) AS g
                 UNION ALL SELECT ${last}) grid) buckets
     ORDER BY b`,
    p.values,
  );
  return rows;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** True when every bucket starts on a whole UTC hour (hourly rollups can be summed into them). */
export const bucketsOnUtcHours = (buckets: Bucket[]) => buckets.every((b) => Date.parse(b.utc) % HOUR_MS === 0);
/** True when every bucket starts at UTC midnight (daily rollups can be counted into them). */
export const bucketsOnUtcDays = (buckets: Bucket[]) => buckets.every((b) => Date.parse(b.utc) % DAY_MS === 0);

/** Splits [from, to) into an aligned core [coreFrom, coreTo) of whole units and the partial edges around it. */
export function alignedCore(
  range: TimeRange,
  unitMs: number,
): { coreFrom: string; coreTo: string; leftEdge: boolean; rightEdge: boolean } | null {
  // `from` is exact to the microsecond (…SS.mmmuuuZ); Date.parse keeps milliseconds only.
  const beyondMs = range.from.slice(23, 26) !== '000' ? 1 : 0;
  const coreFrom = Math.ceil((range.fromMs + beyondMs) / unitMs) * unitMs;
  const coreTo = Math.floor(range.toMs / unitMs) * unitMs;
  if (coreFrom >= coreTo) return null;
  return {
    coreFrom: new Date(coreFrom).toISOString(),
    coreTo: new Date(coreTo).toISOString(),
    leftEdge: coreFrom !== range.fromMs,
    // `to` is exclusive: a `to` past the last whole unit by even a microsecond leaves an edge.
    rightEdge: coreTo !== range.toMs || range.to.slice(23, 26) !== '000',
  };
}
