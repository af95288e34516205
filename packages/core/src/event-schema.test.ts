import { describe, expect, it } from 'vitest';
import { BatchEnvelope, IngestEvent } from './event-schema.ts';
import { toFieldErrors } from './field-errors.ts';

const base = { event: 'page_view', distinct_id: 'user-1' };
const errorsOf = (input: unknown) => {
  const r = IngestEvent.safeParse(input);
  return r.success ? [] : toFieldErrors(r.error);
};

describe('IngestEvent', () => {
  it('accepts a minimal and a complete event', () => {
    expect(errorsOf(base)).toEqual([]);
    expect(
      errorsOf({
        ...base,
        event_id: 'e'.repeat(128),
        timestamp: '2026-01-31T12:00:00.123+02:00',
        session_id: 's',
        properties: { nested: { list: [1, 'a', null, true] } },
        context: { ip: '2001:db8::1', user_agent: 'curl/8', library: { name: 'eap-js', version: '1.2.3' } },
      }),
    ).toEqual([]);
  });

  it.each([
    ['event', { ...base, event: '' }, 'must be at least 1 character'],
    ['event', { ...base, event: 'x'.repeat(201) }, 'must be at most 200 characters'],
    ['distinct_id', { ...base, distinct_id: 'x'.repeat(201) }, 'must be at most 200 characters'],
    ['distinct_id', { ...base, distinct_id: 42 }, 'must be a string, got number'],
    ['event_id', { ...base, event_id: 'x'.repeat(129) }, 'must be at most 128 characters'],
    ['event', { ...base, event: 'a\u0000b' }, 'must not contain NUL (\\u0000) characters'],
    ['event', { ...base, event: 'a\ud800' }, 'must not contain unpaired UTF-16 surrogates'],
    ['properties', { ...base, properties: [1, 2] }, 'must be a JSON object'],
    ['properties', { ...base, properties: 'x' }, 'must be a JSON object'],
    ['context.ip', { ...base, context: { ip: '999.1.1.1' } }, 'must be an IPv4 or IPv6 address'],
    ['context.library.build', { ...base, context: { library: { name: 'x', build: 'y' } } }, 'unknown field "build" is not allowed'],
    ['distinctId', { ...base, distinctId: 'typo' }, 'unknown field "distinctId" is not allowed'],
  ])('reports %s: %j', (path, input, message) => {
    const errors = errorsOf(input);
    expect(errors).toContainEqual(expect.objectContaining({ path, message: expect.stringContaining(message) }));
  });

  it.each(['2026-01-31', '2026-01-31T12:00:00', '31/01/2026', '2026-13-01T00:00:00Z', '2026-01-31T24:00:00Z', 1738324800000])(
    'rejects the timestamp %j',
    (timestamp) => {
      expect(errorsOf({ ...base, timestamp }).map((e) => e.path)).toEqual(['timestamp']);
    },
  );

  it('keeps context keys it does not know, as sent', () => {
    const context = { ip: '10.0.0.1', os: { name: 'iOS', version: '17.1' }, locale: 'de-DE', app: { build: 42 } };
    const parsed = IngestEvent.parse({ ...base, context });
    expect(parsed.context).toEqual(context);
  });

  it('requires event and distinct_id', () => {
    expect(errorsOf({})).toEqual([
      { path: 'event', message: 'is required' },
      { path: 'distinct_id', message: 'is required' },
    ]);
  });
});

describe('BatchEnvelope', () => {
  it('takes 1 to 1,000 events and leaves their validation to the per-event step', () => {
    expect(BatchEnvelope.safeParse({ events: [{ anything: true }] }).success).toBe(true);
    expect(BatchEnvelope.safeParse({ events: Array(1000).fill({}) }).success).toBe(true);
    expect(BatchEnvelope.safeParse({ events: Array(1001).fill({}) }).success).toBe(false);
    expect(BatchEnvelope.safeParse({ events: [] }).success).toBe(false);
    expect(BatchEnvelope.safeParse({ events: [{}], sent_at: 'now' }).success).toBe(false);
    expect(BatchEnvelope.safeParse({ events: [{}], other: 1 }).success).toBe(false);
  });
});

describe('error details', () => {
  it('stay bounded: 10,000 unknown fields with long names give 20 entries, not a 700 KB answer', () => {
    const input: Record<string, unknown> = { ...base };
    for (let i = 0; i < 10_000; i++) input[`field_${i}_${'x'.repeat(500)}`] = i;
    const errors = errorsOf(input);
    expect(errors).toHaveLength(20);
    expect(errors.at(-1)).toEqual({ path: '', message: expect.stringMatching(/^and \d+ more problems$/) });
    expect(errors[0]!.message).toMatch(/^unknown field "field_0_x+…" is not allowed$/);
    expect(JSON.stringify(errors).length).toBeLessThan(8_000);
  });
});
