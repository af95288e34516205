import { createRandom, type Random } from './random.ts';

/** An event as a client sends it to POST /v1/batch. */
export interface ClientEvent {
  event: string;
  distinct_id: string;
  event_id?: string;
  timestamp: string;
  session_id: string;
  properties: Record<string, unknown>;
  context?: { ip?: string; user_agent?: string; library?: { name: string; version?: string } };
}

export interface FunnelModelOptions {
  /** Simulated users; each has a stable distinct_id, device and country. Default 1000. */
  users?: number;
  /** Seed of the random choices. Default 1. */
  seed?: number;
  /** Prefix of distinct ids (keeps projects apart). Default "user". */
  userPrefix?: string;
  /** Clock (ms), for tests and backfills. Default Date.now. */
  now?: () => number;
}

const PAGES = ['/', '/pricing', '/features', '/blog', '/docs', '/about', '/blog/launch', '/docs/getting-started', '/careers', '/contact'];
const REFERRERS = ['google.com', 'direct', 'twitter.com', 'news.ycombinator.com', 'github.com', 'reddit.com', 'linkedin.com'];
const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'CA', 'JP', 'NL', 'ES', 'AU', 'SE'];
const DEVICES = ['desktop', 'mobile', 'tablet'];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge'];
const PLANS = ['free', 'starter', 'pro', 'enterprise'];
const PRODUCTS = Array.from({ length: 50 }, (_, i) => ({ sku: `sku-${i}`, price: Math.round((5 + ((i * 37) % 200)) * 100) / 100 }));

/** Drop-off probabilities between funnel steps (what share moves on). */
export const FUNNEL = { signup: 0.35, add_to_cart: 0.5, purchase: 0.55 } as const;

interface User {
  id: string;
  country: string;
  device: string;
  browser: string;
  ip: string;
  signedUp: boolean;
}

/**
 * Simulated product traffic: users open sessions that walk a funnel — page views, then maybe
 * signup, add_to_cart and purchase, with realistic drop-offs — and send the events a browser SDK
 * would (with properties of realistic cardinality: paths, referrers, countries, devices, plans,
 * SKUs, prices). Deterministic for a given seed.
 */
export function createFunnelModel(options: FunnelModelOptions = {}) {
  const random: Random = createRandom(options.seed ?? 1);
  const now = options.now ?? Date.now;
  const prefix = options.userPrefix ?? 'user';
  const users: User[] = Array.from({ length: options.users ?? 1000 }, (_, i) => ({
    id: `${prefix}-${i}`,
    country: random.skewed(COUNTRIES),
    device: random.pick(DEVICES),
    browser: random.pick(BROWSERS),
    ip: `10.${random.int(256)}.${random.int(256)}.${1 + random.int(254)}`,
    signedUp: false,
  }));
  let sessionCounter = 0;
  const queue: ClientEvent[] = [];

  function session(): void {
    const user = random.pick(users);
    const sessionId = `s-${options.seed ?? 1}-${++sessionCounter}`;
    const referrer = random.skewed(REFERRERS);
    const base = { country: user.country, device: user.device, browser: user.browser, referrer };
    const context = {
      ip: user.ip,
      user_agent: `Mozilla/5.0 (${user.device}) ${user.browser}`,
      library: { name: 'eap-seed', version: '1.0.0' },
    };
    const push = (event: string, properties: Record<string, unknown>) =>
      queue.push({
        event,
        distinct_id: user.id,
        timestamp: new Date(now()).toISOString(),
        session_id: sessionId,
        properties: { ...base, ...properties },
        context,
      });
    const views = 1 + random.int(5);
    for (let i = 0; i < views; i++) push('page_view', { path: random.skewed(PAGES), duration_ms: 500 + random.int(60_000) });
    if (!user.signedUp) {
      if (!random.chance(FUNNEL.signup)) return;
      user.signedUp = true;
      push('signup', { plan: random.skewed(PLANS), method: random.pick(['email', 'google', 'github']) });
    }
    if (!random.chance(FUNNEL.add_to_cart)) return;
    const items = Array.from({ length: 1 + random.int(3) }, () => random.skewed(PRODUCTS));
    const total = Math.round(items.reduce((sum, p) => sum + p.price, 0) * 100) / 100;
    push('add_to_cart', { items: items.map((p) => p.sku), item_count: items.length, value: total });
    if (!random.chance(FUNNEL.purchase)) return;
    push('purchase', { items: items.map((p) => p.sku), revenue: total, currency: 'USD', coupon: random.chance(0.1) ? 'WELCOME10' : null });
  }

  /** The next `n` events of the simulation, in session order. */
  function next(n: number): ClientEvent[] {
    while (queue.length < n) session();
    return queue.splice(0, n);
  }

  return { next, users: users.length };
}
export type FunnelModel = ReturnType<typeof createFunnelModel>;
