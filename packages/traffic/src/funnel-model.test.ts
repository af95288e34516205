import { describe, expect, it } from 'vitest';
import { IngestEvent } from '@eap/core';
import { createFunnelModel, FUNNEL } from './funnel-model.ts';

describe('createFunnelModel', () => {
  it('produces valid events that walk the funnel with drop-offs', () => {
    const model = createFunnelModel({ users: 500, seed: 7, now: () => Date.UTC(2026, 0, 1) });
    const events = model.next(50_000);
    expect(events).toHaveLength(50_000);
    for (const e of events.slice(0, 2000)) expect(IngestEvent.safeParse(e).success).toBe(true);
    const count = (name: string) => events.filter((e) => e.event === name).length;
    const [views, signups, carts, purchases] = [count('page_view'), count('signup'), count('add_to_cart'), count('purchase')];
    expect(views).toBeGreaterThan(signups);
    expect(signups).toBeGreaterThan(0);
    expect(carts).toBeGreaterThan(purchases);
    // Purchases follow carts at about the configured rate.
    expect(purchases / carts).toBeGreaterThan(FUNNEL.purchase - 0.05);
    expect(purchases / carts).toBeLessThan(FUNNEL.purchase + 0.05);
    // Every purchase belongs to a session that had a cart first.
    const sessionsWithCart = new Set(events.filter((e) => e.event === 'add_to_cart').map((e) => e.session_id));
    expect(events.filter((e) => e.event === 'purchase').every((e) => sessionsWithCart.has(e.session_id))).toBe(true);
    expect(new Set(events.map((e) => e.distinct_id)).size).toBeLessThanOrEqual(500);
  });

  it('is deterministic for a seed', () => {
    const a = createFunnelModel({ seed: 3, now: () => 0 }).next(100);
    const b = createFunnelModel({ seed: 3, now: () => 0 }).next(100);
    expect(a).toEqual(b);
  });
});
