import { listEvents } from '../../services/api/src/query/events.query.ts';
import { queryFunnel } from '../../services/api/src/query/funnel.query.ts';
import type { QueryClient } from '../../services/api/src/query/query-runner.ts';
import { FunnelRequest, RetentionRequest, TrendsRequest } from '../../services/api/src/query/query.schemas.ts';
import { queryRetention } from '../../services/api/src/query/retention.query.ts';
import { queryTrends } from '../../services/api/src/query/trends.query.ts';

/** One query of the benchmark: what it asks, how to run it, its p95 target (ms) if it has one. */
export interface QueryCase {
  name: string;
  description: string;
  /** Where the answer comes from: rollups or raw events (as the query layer decides). */
  source: string;
  targetP95Ms?: number;
  run: (client: QueryClient, projectId: string) => Promise<unknown>;
  /** A few figures of the answer, kept in the results file to show what was computed. */
  summarize: (result: unknown) => unknown;
}

type Series = { event: string; breakdown_value?: string | null; points: { value: number }[] };
const totals = (r: unknown) =>
  (r as { series: Series[] }).series.map((s) => ({
    event: s.event,
    ...(s.breakdown_value !== undefined ? { breakdown_value: s.breakdown_value } : {}),
    total: s.points.reduce((sum, p) => sum + p.value, 0),
    points: s.points.length,
  }));

/** The benchmark's queries over the 30 days starting at `start` (UTC midnight). */
export function benchQueryCases(start: Date): QueryCase[] {
  const day = (n: number) => new Date(start.getTime() + n * 86_400_000).toISOString().slice(0, 10);
  const month = { from: day(0), to: day(30) };
  return [
    {
      name: 'trends_count_by_day',
      description: 'page_view, count per day over 30 days',
      source: 'rollup (hourly counts)',
      targetP95Ms: 300,
      run: (c, p) => queryTrends(c, p, TrendsRequest.parse({ events: ['page_view'], ...month, interval: 'day' })),
      summarize: totals,
    },
    {
      name: 'trends_unique_users_by_day',
      description: 'page_view, unique users per day over 30 days',
      source: 'rollup (daily unique users)',
      targetP95Ms: 300,
      run: (c, p) => queryTrends(c, p, TrendsRequest.parse({ events: ['page_view'], ...month, interval: 'day', measure: 'unique_users' })),
      summarize: totals,
    },
    {
      name: 'trends_unique_users_by_week',
      description: 'page_view, unique users per week over 30 days',
      source: 'rollup (user-days, distinct count)',
      run: (c, p) => queryTrends(c, p, TrendsRequest.parse({ events: ['page_view'], ...month, interval: 'week', measure: 'unique_users' })),
      summarize: totals,
    },
    {
      name: 'trends_breakdown_by_plan',
      description: 'purchase (~1 % of events), count per day over 30 days, broken down by plan',
      source: 'raw events',
      targetP95Ms: 300,
      run: (c, p) => queryTrends(c, p, TrendsRequest.parse({ events: ['purchase'], ...month, interval: 'day', breakdown: 'plan' })),
      summarize: totals,
    },
    {
      name: 'trends_breakdown_by_browser_add_to_cart',
      description: 'add_to_cart (~3 % of events), count per day over 30 days, broken down by browser',
      source: 'raw events',
      run: (c, p) => queryTrends(c, p, TrendsRequest.parse({ events: ['add_to_cart'], ...month, interval: 'day', breakdown: 'browser' })),
      summarize: totals,
    },
    {
      name: 'funnel_3_steps',
      description: 'page_view → add_to_cart → purchase over 30 days, window 1 day',
      source: 'step 1 from the user-day rollup, steps 2–3 from raw events',
      targetP95Ms: 1500,
      run: (c, p) =>
        queryFunnel(c, p, FunnelRequest.parse({ steps: ['page_view', 'add_to_cart', 'purchase'], ...month, window_seconds: 86_400 })),
      summarize: (r) => (r as { steps: unknown }).steps,
    },
    {
      name: 'events_page',
      description: 'the newest 100 events of the last 7 days, no filter',
      source: 'raw events (time index)',
      run: (c, p) =>
        listEvents(c, p, {
          from: day(23),
          to: day(30),
          timezone: 'UTC',
          events: undefined,
          distinctId: undefined,
          properties: undefined,
          limit: 100,
          cursor: undefined,
        }),
      summarize: (r) => ({ events: (r as { events: unknown[] }).events.length }),
    },
    {
      name: 'retention_weekly',
      description: 'signup → page_view, weekly cohorts over 4 weeks, 4 periods',
      source: 'rollup (user-days)',
      targetP95Ms: 1500,
      run: (c, p) =>
        queryRetention(
          c,
          p,
          RetentionRequest.parse({
            cohort_event: 'signup',
            return_event: 'page_view',
            from: day(0),
            to: day(28),
            period: 'week',
            periods: 4,
          }),
        ),
      summarize: (r) => (r as { cohorts: unknown }).cohorts,
    },
  ];
}
