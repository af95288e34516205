import { describe, expect, it } from 'vitest';
import { decodeStreamEvents, encodeStreamEntry, readProjectSettings } from '@eap/core';
import { correctEventTime, normalizeEvent, type RequestContext } from './event-normalizer.ts';
import { createGeoLookup } from './enrichment/geoip.ts';
import { createRequestEnricher } from './enrichment/request-enrichment.ts';

const H = 3_600_000;
/** The event as the worker decodes the entry the API would append. */
const storedEvent = (data: string) => decodeStreamEvents(encodeStreamEntry(data))[0]!;
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

const enricher = createRequestEnricher({ geo: createGeoLookup() });
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
// 8.8.8.8: Google's resolver, which every edition of the database places in the US.
const PUBLIC_IP = '8.8.8.8';

describe('normalizeEvent', () => {
  const ctx = {
    enrichment: enricher.forRequest('127.0.0.1', undefined, readProjectSettings({})),
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
    const parsed = storedEvent(r.entry.data);
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

  it('stores the timestamp as toISOString writes it, whatever form the client sent', () => {
    const stored = (timestamp: string | undefined, c: RequestContext = ctx) => {
      const r = normalizeEvent({ event: 'e', distinct_id: 'u', ...(timestamp === undefined ? {} : { timestamp }) }, c);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return storedEvent(r.entry.data).timestamp as string;
    };
    for (const given of [
      '2026-01-01T11:59:59.123Z',
      '2024-02-29T23:59:59.999Z',
      '2026-01-01T11:59:59Z',
      '2026-01-01T11:59:59.1Z',
      '2026-01-01T11:59:59.123456Z',
      '2026-01-01T13:59:59.123+02:00',
    ]) {
      expect(stored(given)).toBe(new Date(Date.parse(given)).toISOString());
    }
    expect(stored(undefined)).toBe(ctx.receivedAtIso);
    // A string in the canonical shape that is no date never reaches the stored form.
    for (const impossible of ['2026-02-30T00:00:00.000Z', '2025-02-29T00:00:00.000Z', '2026-01-01T24:00:00.000Z']) {
      expect(normalizeEvent({ event: 'e', distinct_id: 'u', timestamp: impossible }, ctx).ok).toBe(false);
    }
    // With sent_at the client's clock offset is removed: the stored time is not the string sent.
    const skewed = { ...ctx, sentAt: received + H, sentAtRaw: new Date(received + H).toISOString() };
    expect(stored('2026-01-01T12:59:00.000Z', skewed)).toBe('2026-01-01T11:59:00.000Z');
  });

  it('reports schema and properties problems together', () => {
    const r = normalizeEvent({ event: '', distinct_id: 'u', properties: { bad: 'a\u0000' } }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(['event', 'properties.bad']);
  });
});

describe('normalizeEvent with enrichment', () => {
  const base = {
    projectId: '0195f0a0-0000-7000-8000-000000000001',
    receivedAt: received,
    receivedAtIso: new Date(received).toISOString(),
    sentAt: undefined,
    sentAtRaw: undefined,
    shards: 4,
    oldestAccepted: received - 730 * 86_400_000,
    ageLimit: 'MAX_EVENT_AGE_DAYS (730 days)',
  };
  const stored = (raw: unknown, ip: string | undefined, ua: string | undefined, settings: unknown = {}) => {
    const r = normalizeEvent(raw, { ...base, enrichment: enricher.forRequest(ip, ua, readProjectSettings(settings)) });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    // Untyped, as the JSON it reads: the checks below reach into the context freely.
    return storedEvent(r.entry.data) as ReturnType<typeof JSON.parse>;
  };
  const event = { event: 'e', distinct_id: 'u' };

  it('adds nothing for a loopback request without a user agent: context null, no is_bot', () => {
    const json = stored(event, '127.0.0.1', undefined);
    expect(json.context).toBeNull();
    expect('is_bot' in json).toBe(false);
  });

  it('adds browser, OS, device and country from the request; the IP only with store_ip', () => {
    const json = stored(event, PUBLIC_IP, CHROME);
    expect(json.context).toEqual({
      user_agent: CHROME,
      browser: { name: 'Chrome', version: '126.0.0.0' },
      os: { name: 'Windows', version: 'NT 10.0' },
      device: { type: 'desktop' },
      geo: { country: 'US', region: 'California', city: 'Mountain View' },
    });
    expect(stored(event, PUBLIC_IP, CHROME, { store_ip: true }).context.ip).toBe(PUBLIC_IP);
    expect(stored(event, `::ffff:${PUBLIC_IP}`, undefined, { store_ip: true }).context).toEqual({
      ip: PUBLIC_IP,
      geo: { country: 'US', region: 'California', city: 'Mountain View' },
    });
  });

  it('marks bots, and turns each part off with its setting', () => {
    const bot = stored(event, '10.1.2.3', GOOGLEBOT);
    expect(bot.is_bot).toBe(true);
    expect(bot.context.bot).toEqual({ name: 'Googlebot' });
    expect('is_bot' in stored(event, '10.1.2.3', GOOGLEBOT, { bot_filtering: false })).toBe(false);
    expect(stored(event, PUBLIC_IP, CHROME, { user_agent: false, geoip: false }).context).toBeNull();
    expect(stored(event, PUBLIC_IP, GOOGLEBOT, { user_agent: false, geoip: false }).context).toEqual({ bot: { name: 'Googlebot' } });
  });

  it("keeps the client's context keys, which win; an event's own ip and user agent replace the request's", () => {
    const json = stored(
      { ...event, context: { ip: '1.1.1.1', user_agent: GOOGLEBOT, os: { name: 'iOS', version: '17.1' }, locale: 'de-DE' } },
      PUBLIC_IP,
      CHROME,
    );
    expect(json.context).toMatchObject({
      user_agent: GOOGLEBOT,
      os: { name: 'iOS', version: '17.1' },
      locale: 'de-DE',
      bot: { name: 'Googlebot' },
    });
    expect(json.context.ip).toBeUndefined();
    expect(json.context.geo?.country).toBe('AU');
    expect(json.is_bot).toBe(true);
    expect(stored({ ...event, context: { ip: '1.1.1.1' } }, PUBLIC_IP, undefined, { store_ip: true }).context.ip).toBe('1.1.1.1');
  });

  it('bounds the context like properties: 32 KiB, 10 levels, no __proto__', () => {
    const errorsOf = (context: unknown) => {
      const r = normalizeEvent(
        { ...event, context },
        { ...base, enrichment: enricher.forRequest(undefined, undefined, readProjectSettings({})) },
      );
      return r.ok ? [] : r.errors.map((e) => e.path);
    };
    expect(errorsOf({ page: 'x'.repeat(33 * 1024) })).toEqual(['context']);
    expect(errorsOf({ a: { b: { c: { d: { e: { f: { g: { h: { i: { j: {} } } } } } } } } } })).toEqual(['context.a.b.c.d.e.f.g.h.i.j']);
    expect(errorsOf(JSON.parse('{"__proto__":{"x":1}}'))).toEqual(['context.__proto__']);
    // Also beside an IP that is not stored, which is left out before the check.
    expect(errorsOf(JSON.parse('{"ip":"1.1.1.1","__proto__":{"x":1}}'))).toEqual(['context.__proto__']);
    expect(errorsOf({ ip: 'nope', extra: 'a\u0000' })).toEqual(expect.arrayContaining(['context.ip', 'context.extra']));
  });
});
