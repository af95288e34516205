import { describe, expect, it } from 'vitest';
import { IngestEvent } from './event-schema.ts';
import { parseIngestEventFast } from './ingest-event-fast-path.ts';
import type { Random } from '@eap/traffic';
import { generatedFields, shortcutAgainstSchema } from './test-support/shortcut-against-schema.ts';

const texts = ['a', 'page_view', 'user-42', 'ünïcödé ✓', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(200), 'x'.repeat(201)];
const badTexts = ['', 'nul\u0000inside', 'lone \ud800 surrogate', 42, null, true, ['a'], { a: 1 }];
const timestamps = [
  '2026-01-31T12:00:00Z',
  '2026-01-31T12:00:00.123Z',
  '2026-01-31T12:00:00.123456789+05:30',
  '2026-01-31T12:00:00.1234567891Z',
  '2024-02-29T00:00:00Z',
  '2023-02-29T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '2026-01-31T24:00:00Z',
  '2026-01-31T12:00:00',
  '2026-01-31t12:00:00Z',
  '2026-01-31 12:00:00Z',
  '2026-01-31T12:00Z',
  `2026-01-31T12:00:00.${'1'.repeat(30)}Z`,
  '2026-13-01T00:00:00Z',
  1767225600000,
  null,
];
const ips = ['10.1.2.3', '8.8.8.8', '2001:db8::1', '::1', '999.1.1.1', '1.2.3', 'fe80::1%eth0', 'not an ip', '', 7, null];
const libraries = [
  { name: 'eap-js' },
  { name: 'eap-js', version: '1.0.0' },
  { name: '' },
  { name: 'eap-js', extra: 1 },
  { version: '1.0.0' },
  { name: 'eap-js', version: 'x'.repeat(101) },
  'eap-js',
  null,
  [],
];
const objects = [{}, { a: 1, nested: { b: [1, 2] } }, JSON.parse('{"__proto__": {"x": 1}, "y": 2}'), [], null, 'text', 3];

/** An event built field by field from valid and invalid values (each field may be absent). */
function generatedEvent(r: Random): unknown {
  const { value: event, set } = generatedFields(r, { absent: 0.3, valid: 0.8 });
  set('event', texts, badTexts, 0.03);
  set('distinct_id', texts, badTexts, 0.03);
  set('event_id', texts, badTexts);
  set('timestamp', timestamps.slice(0, 5), timestamps.slice(5));
  set('session_id', texts, badTexts);
  set('properties', objects.slice(0, 3), objects.slice(3));
  if (r.next() < 0.7) {
    const { value: context, set: put } = generatedFields(r, { absent: 0.3, valid: 0.8 });
    put('ip', ips.slice(0, 4), ips.slice(4));
    put('user_agent', ['Mozilla/5.0', 'x'.repeat(1000)], ['', 'x'.repeat(1001), 5, 'nul\u0000']);
    put('library', libraries.slice(0, 2), libraries.slice(2));
    put('locale', ['de-DE'], [null, { a: 1 }]);
    if (r.next() < 0.02) Object.defineProperty(context, '__proto__', { value: {}, enumerable: true });
    event.context = r.next() < 0.95 ? context : r.pick([null, [], 'ctx']);
  }
  if (r.next() < 0.03) event.distinctId = 'typo';
  if (r.next() < 0.02) event.event_id = undefined;
  return r.next() < 0.01 ? r.pick([null, [], 'event', 1]) : event;
}

/** The schema's result without `properties`, which the ingest path reads from the raw event. */
const withoutProperties = ({ properties: _p, ...rest }: IngestEvent) => rest;

describe('parseIngestEventFast', () => {
  it('accepts only what the schema accepts, with the same result, over generated events', () => {
    const { valid, taken } = shortcutAgainstSchema({
      seed: 20261128,
      cases: 20_000,
      generate: generatedEvent,
      schema: IngestEvent,
      shortcut: parseIngestEventFast,
      agree: (accepted, parsed, raw) => {
        expect(withoutProperties(accepted), JSON.stringify(raw)).toEqual(withoutProperties(parsed));
        expect(accepted.properties === undefined).toBe(parsed.properties === undefined);
      },
    });
    // The shortcut takes most valid events (those with a __proto__ key in properties or context
    // go to the schema).
    expect(taken / valid).toBeGreaterThan(0.6);
  });

  it('takes the events SDKs and servers send', () => {
    const events = [
      { event: 'page_view', distinct_id: 'u1' },
      {
        event: 'purchase',
        distinct_id: 'user-5817',
        event_id: '0195f0a0-0000-7000-8000-000000000001',
        timestamp: '2026-11-28T20:15:45.127Z',
        session_id: 's-1-1',
        properties: { price: 9.5, items: [{ sku: 'a' }] },
        context: { ip: '10.41.81.226', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', library: { name: 'eap-seed', version: '1.0.0' } },
      },
      { event: '$identify', distinct_id: 'u2', properties: { $set: { plan: 'pro' } }, context: { app: { name: 'shop' }, locale: 'de-DE' } },
    ];
    for (const event of events) {
      const accepted = parseIngestEventFast(JSON.parse(JSON.stringify(event)));
      expect(accepted).toEqual(IngestEvent.parse(event));
    }
  });

  it('leaves every invalid or unusual event to the schema', () => {
    for (const raw of [
      null,
      [],
      'event',
      {},
      { event: 'e' },
      { event: 'e', distinct_id: 'u', distinctId: 'u' },
      { event: 'e', distinct_id: null },
      { event: 'e', distinct_id: 'u', timestamp: '2026-02-30T00:00:00Z' },
      { event: 'e', distinct_id: 'u', context: { ip: '300.1.1.1' } },
      { event: 'e', distinct_id: 'u', context: { library: { name: 'x', extra: true } } },
      { event: 'e', distinct_id: 'u', properties: [] },
      { event: 'e'.repeat(201), distinct_id: 'u' },
      JSON.parse('{"event": "e", "distinct_id": "u", "__proto__": {}}'),
    ]) {
      expect(parseIngestEventFast(raw), JSON.stringify(raw)).toBeUndefined();
    }
  });
});
