import { describe, expect, it } from 'vitest';
import { correctEventTime, normalizeEvent } from './event-normalizer.ts';

const H = 3_600_000;
const received = Date.UTC(2026, 0, 1, 12);

describe('correctEventTime', () => {
  it('uses receive time without a timestamp, and the timestamp as given without sent_at', () => {
    expect(correctEventTime(undefined, received, undefined)).toBe(received);
    expect(correctEventTime(undefined, received, received + H)).toBe(received);
    expect(correctEventTime(received - 5 * H, received, undefined)).toBe(received - 5 * H);
  });

  it('removes the client clock offset measured by sent_at', () => {
    // Client clock 2 h slow: it sent at (its) 10:00 what the server got at 12:00.
    expect(correctEventTime(received - 2 * H - 60_000, received, received - 2 * H)).toBe(received - 60_000);
    // Client clock 3 h fast.
    expect(correctEventTime(received + 3 * H - 1000, received, received + 3 * H)).toBe(received - 1000);
  });

  it('clamps times more than 23 h ahead to receive time, and keeps times just under', () => {
    expect(correctEventTime(received + 23 * H + 1, received, undefined)).toBe(received);
    expect(correctEventTime(received + 23 * H, received, undefined)).toBe(received + 23 * H);
  });
});

describe('normalizeEvent', () => {
  const ctx = {
    projectId: '0195f0a0-0000-7000-8000-000000000001',
    receivedAt: received,
    receivedAtIso: new Date(received).toISOString(),
    sentAt: undefined,
    sentAtRaw: undefined,
    shards: 4,
    oldestAccepted: received - 730 * 86_400_000,
    ageLimit: 'MAX_EVENT_AGE_DAYS (730 days)',
  };

  it('serializes the stream form with properties spliced in', () => {
    const r = normalizeEvent({ event: 'e', distinct_id: 'u', event_id: 'id', properties: { a: [1, { b: 'c' }] } }, ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const parsed = JSON.parse(r.entry.json);
    expect(parsed).toMatchObject({
      project_id: ctx.projectId,
      event_id: 'id',
      properties: { a: [1, { b: 'c' }] },
      timestamp: '2026-01-01T12:00:00.000Z',
    });
    expect(r.entry.shard).toBeGreaterThanOrEqual(0);
    expect(r.entry.shard).toBeLessThan(4);
  });

  it('rejects a time before 1970 after skew correction, keeping the client event_id in the report', () => {
    const r = normalizeEvent({ event: 'e', distinct_id: 'u', event_id: 'mine', timestamp: '1969-12-31T00:00:00Z' }, ctx);
    expect(r).toEqual({ ok: false, eventId: 'mine', errors: [{ path: 'timestamp', message: expect.stringContaining('before 1970') }] });
  });

  it('refuses an event older than the accepted age, saying which setting sets it', () => {
    const r = normalizeEvent({ event: 'e', distinct_id: 'u', event_id: 'old', timestamp: '2001-06-01T00:00:00Z' }, ctx);
    expect(r).toEqual({
      ok: false,
      eventId: 'old',
      errors: [{ path: 'timestamp', message: expect.stringContaining('older than MAX_EVENT_AGE_DAYS (730 days)') }],
    });
    const edge = new Date(ctx.oldestAccepted).toISOString();
    expect(normalizeEvent({ event: 'e', distinct_id: 'u', timestamp: edge }, ctx).ok).toBe(true);
  });

  it('refuses time fields the database could not keep as sent: more than 9 fractional digits', () => {
    const long = `2026-01-01T00:00:00.${'1'.repeat(200)}Z`;
    const r = normalizeEvent({ event: 'e', distinct_id: 'u', timestamp: long }, ctx);
    expect(r).toEqual({ ok: false, errors: [{ path: 'timestamp', message: expect.stringContaining('at most 9 fractional digits') }] });
    expect(normalizeEvent({ event: 'e', distinct_id: 'u', timestamp: '2026-01-01T00:00:00.123456789Z' }, ctx).ok).toBe(true);
  });

  it('reports schema and properties problems together', () => {
    const r = normalizeEvent({ event: '', distinct_id: 'u', properties: { bad: 'a\u0000' } }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(['event', 'properties.bad']);
  });
});
