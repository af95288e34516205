import { describe, expect, it } from 'vitest';
import { parseStreamEventFast, parseStreamEventHeadFast, StreamEvent, StreamEventHead } from './stream-entry.ts';
import type { Random } from '@eap/traffic';
import { generatedFields, shortcutAgainstSchema } from './test-support/shortcut-against-schema.ts';

const times = ['2026-11-28T20:15:45.127Z', '2026-11-28T20:15:45Z', '2026-01-31T12:00:00.123456+05:30'];
const badTimes = ['2026-02-30T00:00:00Z', '2026-11-28 20:15:45Z', '2026-11-28T20:15:45', '', 0, null];
const uuids = ['0195f0a0-0000-7000-8000-000000000001', '9b2d6f6e-3c1a-4e8b-9f7d-2a1b3c4d5e6f'];
const badUuids = ['not-a-uuid', '0195f0a0-0000-7000-8000-00000000000', '', 5, null];
const texts = ['a', 'page_view', 'ü ✓', 'x'.repeat(100), 'x'.repeat(128), 'x'.repeat(200)];
const badTexts = ['', 'x'.repeat(201), 1, null, {}, []];
const objects = [{}, { a: 1, nested: { b: [1, 2] } }, { 'a\tb': 'c\nd' }];
const badObjects = [[], 'x', 1, JSON.parse('{"__proto__": {"x": 1}}')];

/** A decoded entry built field by field from valid and invalid values. */
function generatedEntry(r: Random): unknown {
  const { value: entry, set } = generatedFields(r, { absent: 0.02, valid: 0.9 });
  set('project_id', uuids, badUuids);
  set('event_id', texts.slice(0, 5), ['x'.repeat(129), ...badTexts]);
  set('event', texts, badTexts);
  set('distinct_id', texts, badTexts);
  set('timestamp', times, badTimes);
  set('client_timestamp', [null, '2026-11-28T20:15:45.127Z', 'yesterday'], ['x'.repeat(101), 3]);
  set(
    'sent_at',
    [null, ...times],
    badTimes.filter((t) => t !== null),
  );
  set('received_at', times, badTimes);
  set('session_id', [null, ...texts], ['x'.repeat(201), 4]);
  set('properties', objects, [null, ...badObjects]);
  set('context', [null, ...objects], badObjects);
  set('is_bot', [true, false], ['true', 1, null], 0.6);
  if (r.next() < 0.03) entry.extra = 'kept out by the schema';
  return entry;
}

describe('parseStreamEventFast', () => {
  it('accepts only what the schema accepts, as the schema returns it, over generated entries', () => {
    const { valid, taken } = shortcutAgainstSchema({
      seed: 11282026,
      cases: 20_000,
      generate: generatedEntry,
      schema: StreamEvent,
      shortcut: parseStreamEventFast,
      agree: (accepted, parsed, value) => expect(accepted, JSON.stringify(value)).toEqual(parsed),
    });
    // The shortcut takes the valid entries but those with a key the schema drops (unknown keys,
    // a __proto__ key in properties or context).
    expect(taken / valid).toBeGreaterThan(0.85);
  });
});

describe('parseStreamEventHeadFast', () => {
  it('accepts only what the head schema accepts, as the schema returns it, over generated heads', () => {
    const { valid, taken } = shortcutAgainstSchema({
      seed: 11292026,
      cases: 20_000,
      generate: (r) => {
        // The first line of a version 2 entry; now and then with a part that belongs to the other lines.
        const { properties, context, ...head } = generatedEntry(r) as Record<string, unknown>;
        return r.next() < 0.03 ? { ...head, properties } : head;
      },
      schema: StreamEventHead,
      shortcut: parseStreamEventHeadFast,
      agree: (accepted, parsed, value) => expect(accepted, JSON.stringify(value)).toEqual(parsed),
    });
    expect(taken / valid).toBeGreaterThan(0.85);
  });
});
