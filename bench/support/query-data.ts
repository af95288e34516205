import { copyLine } from '@eap/worker';
import { createRandom, type Random } from '@eap/traffic';
import { streamRowOf } from '@eap/core';

/**
 * Synthetic product analytics data for the query benchmark: `users` people arriving over `days`
 * days, each with an activity level (a few heavy users, a long tail), visiting in sessions whose
 * likelihood decays after their first visit (so retention curves look like real ones). A session
 * is a walk through ~20 event names with skewed frequencies: many page views, fewer searches and
 * product views, rare carts, checkouts and purchases, one signup per user at most.
 */
/** Rows per worker batch at full load (the worker's default WORKER_BATCH_SIZE). */
export const WORKER_BATCH_ROWS = 1000;

export interface QueryDataOptions {
  projectId: string;
  events: number;
  users: number;
  days: number;
  /** UTC midnight of the first day. */
  start: Date;
  seed?: number;
}

const PLANS = ['free', 'free', 'free', 'free', 'free', 'free', 'pro', 'pro', 'pro', 'enterprise'];
const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'CA', 'JP', 'ES', 'IT', 'NL', 'SE', 'PL', 'MX', 'AU'];
const MORE_COUNTRIES = Array.from({ length: 45 }, (_, i) => `C${i}`);
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet', 'Opera'];
const PATHS = Array.from({ length: 200 }, (_, i) => (i === 0 ? '/' : `/page/${i}`));
/** Background events sprinkled into sessions, most frequent first. */
const OTHER_EVENTS = [
  'button_click',
  'scroll',
  'session_start',
  'search',
  'product_view',
  'video_play',
  'share',
  'comment',
  'notification_open',
  'settings_change',
  'invite_sent',
  'export',
  'logout',
];

interface User {
  id: string;
  firstDay: number;
  weight: number;
  plan: string | null;
  country: string;
  browser: string;
  signedUp: boolean;
}

function makeUsers(random: Random, n: number, days: number): User[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `user-${i}`,
    // More users arrive early (the product existed before the window too).
    firstDay: Math.floor(days * random.next() ** 1.6),
    // Pareto-like activity: most users visit rarely, a few are very active.
    weight: 1 / (0.02 + random.next()) ** 1.2,
    // One user in ten has no plan property at all (null breakdown values).
    plan: random.chance(0.1) ? null : random.pick(PLANS),
    country: random.chance(0.85) ? random.skewed(COUNTRIES) : random.pick(MORE_COUNTRIES),
    browser: random.skewed(BROWSERS),
    signedUp: false,
  }));
}

/** Probability weight of a visit `age` days after the user's first day (retention decay). */
const decay = (age: number) => (age < 0 ? 0 : age === 0 ? 1 : 0.35 + 0.4 / (1 + age));

/**
 * Yields COPY text lines (the `events` columns used by the worker's writer) day by day, in
 * timestamp order within each day. Exactly `events` lines in total.
 */
export function* queryDataLines(options: QueryDataOptions): Generator<string> {
  const random = createRandom(options.seed ?? 42);
  const users = makeUsers(random, options.users, options.days);
  const perDay = Math.floor(options.events / options.days);
  let seq = 0;
  for (let day = 0; day < options.days; day++) {
    const target = day === options.days - 1 ? options.events - perDay * (options.days - 1) : perDay;
    // Cumulative visit weights of the users who exist on this day.
    const cumulative = new Float64Array(users.length);
    let total = 0;
    for (let i = 0; i < users.length; i++) {
      const u = users[i]!;
      total += u.weight * decay(day - u.firstDay);
      cumulative[i] = total;
    }
    const dayStart = options.start.getTime() + day * 86_400_000;
    const rows: { t: number; event: string; line: string }[] = [];
    while (rows.length < target) {
      const user = users[lowerBound(cumulative, random.next() * total)]!;
      // Sessions cluster in the (UTC) afternoon and evening.
      const sessionStart = dayStart + Math.floor(86_400_000 * Math.min(0.999, Math.max(0, 0.6 + 0.25 * gaussian(random))));
      for (const [offset, event, extra] of session(random, user)) {
        if (rows.length >= target) break;
        const t = Math.min(dayStart + 86_399_999, sessionStart + offset);
        const properties: Record<string, unknown> = { country: user.country, browser: user.browser, ...extra };
        if (user.plan !== null) properties.plan = user.plan;
        rows.push({ t, event, line: line(options.projectId, `q${(seq++).toString(36)}`, event, user.id, t, properties) });
      }
    }
    rows.sort((a, b) => a.t - b.t);
    // Stored in the physical order the worker gives them under load: each batch of
    // WORKER_BATCH_ROWS consecutive events sorted by event name, then time (event-writer.ts).
    for (let i = 0; i < rows.length; i += WORKER_BATCH_ROWS) {
      const batch = rows.slice(i, i + WORKER_BATCH_ROWS);
      batch.sort((a, b) => (a.event < b.event ? -1 : a.event > b.event ? 1 : a.t - b.t));
      for (const row of batch) yield row.line;
    }
  }
}

function line(projectId: string, eventId: string, event: string, user: string, t: number, properties: object): string {
  const iso = new Date(t).toISOString();
  return copyLine(
    streamRowOf({
      project_id: projectId,
      event_id: eventId,
      event,
      distinct_id: user,
      timestamp: iso,
      client_timestamp: null,
      sent_at: null,
      received_at: iso,
      session_id: null,
      properties: properties as Record<string, never>,
      context: null,
    }),
  );
}

/** One session: [ms after its start, event, event-specific properties]. */
function session(random: Random, user: User): [number, string, Record<string, unknown>][] {
  const out: [number, string, Record<string, unknown>][] = [];
  let t = 0;
  const step = () => {
    t += 2000 + random.int(60_000);
    return t;
  };
  const views = 1 + Math.floor(-Math.log(1 - random.next()) * 3.5);
  for (let i = 0; i < views; i++) {
    out.push([step(), 'page_view', { path: random.skewed(PATHS) }]);
    if (random.chance(0.7)) out.push([step(), random.skewed(OTHER_EVENTS), {}]);
  }
  if (!user.signedUp && random.chance(0.5)) {
    user.signedUp = true;
    out.push([step(), 'signup', {}]);
  }
  if (random.chance(0.22)) {
    out.push([step(), 'add_to_cart', { item: `sku-${random.int(500)}` }]);
    if (random.chance(0.5)) {
      out.push([step(), 'checkout_started', {}]);
      if (random.chance(0.6)) out.push([step(), 'purchase', { amount: Math.round((5 + random.next() ** 2 * 495) * 100) / 100 }]);
    }
  }
  if (random.chance(0.02)) out.push([step(), 'error', { code: random.pick(['E1', 'E2', 'E3']) }]);
  if (random.chance(0.01)) out.push([step(), 'subscription_cancelled', {}]);
  return out;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}
