import { describe, expect, it } from 'vitest';
import { mapPostHogEvent, readPostHogEnvelope } from './posthog-mapper.ts';

const receivedAt = Date.parse('2026-02-01T00:00:10.000Z');

describe('PostHog bodies and events as EAP raw events', () => {
  it('reads the batch shape, an array, and one event; the key from the body or the first event', () => {
    expect(readPostHogEnvelope({ api_key: 'k', batch: [{}], sent_at: 's' })).toEqual({ messages: [{}], key: 'k', sentAt: 's' });
    expect(readPostHogEnvelope([{ event: 'e', properties: { token: 'k2' } }])).toMatchObject({ key: 'k2', messages: [{ event: 'e' }] });
    expect(readPostHogEnvelope({ token: 'k3', event: 'e', distinct_id: 'd' })).toMatchObject({ key: 'k3', messages: [{ event: 'e' }] });
    expect(readPostHogEnvelope({ batch: [{ properties: { token: 'k4' } }] }).key).toBe('k4');
  });

  it('posthog-node: uuid as event_id, ISO timestamp, $set kept, $lib as the library', () => {
    const mapped = mapPostHogEvent(
      {
        event: '$identify',
        distinct_id: 'u1',
        uuid: '01890000-0000-7000-8000-000000000001',
        timestamp: '2026-02-01T00:00:00.000Z',
        properties: { $set: { plan: 'pro' }, $anon_distinct_id: 'a1', $lib: 'posthog-node', $lib_version: '5.70.0', $is_server: true },
      },
      { sentAtMs: undefined, receivedAt },
    );
    expect(mapped).toEqual({
      ok: true,
      event: {
        event: '$identify',
        distinct_id: 'u1',
        event_id: '01890000-0000-7000-8000-000000000001',
        timestamp: '2026-02-01T00:00:00.000Z',
        properties: { $set: { plan: 'pro' }, $anon_distinct_id: 'a1', $lib: 'posthog-node', $lib_version: '5.70.0', $is_server: true },
        context: { library: { name: 'posthog-node', version: '5.70.0' } },
      },
    });
  });

  it('posthog-js: distinct_id and token in properties (the token is not stored), $time in seconds, $session_id', () => {
    const mapped = mapPostHogEvent(
      {
        uuid: 'u-1',
        event: '$pageview',
        properties: { distinct_id: 'd1', token: 'secret', $time: 1769904000.5, $session_id: 's1', $insert_id: 'i' },
      },
      { sentAtMs: undefined, receivedAt },
    );
    expect(mapped).toMatchObject({
      ok: true,
      event: { distinct_id: 'd1', event_id: 'u-1', timestamp: '2026-02-01T00:00:00.500Z', session_id: 's1' },
    });
    expect(mapped.ok && mapped.event.properties).not.toHaveProperty('token');
    expect(mapped.ok && mapped.event.properties).not.toHaveProperty('distinct_id');
  });

  it('offset: milliseconds before sent_at, or before receipt without sent_at; $insert_id when there is no uuid', () => {
    const sentAtMs = Date.parse('2026-02-01T00:00:05.000Z');
    expect(mapPostHogEvent({ event: 'e', distinct_id: 'd', offset: 1500 }, { sentAtMs, receivedAt })).toMatchObject({
      event: { timestamp: '2026-02-01T00:00:03.500Z' },
    });
    expect(
      mapPostHogEvent(
        { event: 'e', distinct_id: 'd', offset: 1000, properties: { $insert_id: 'ins' } },
        { sentAtMs: undefined, receivedAt },
      ),
    ).toMatchObject({
      event: { timestamp: '2026-02-01T00:00:09.000Z', event_id: 'ins' },
    });
  });

  it('/engage: a $set event carrying the person operations', () => {
    expect(
      mapPostHogEvent({ $token: 'k', $distinct_id: 'd', $set: { a: 1 }, $unset: ['b'] }, { sentAtMs: undefined, receivedAt, engage: true }),
    ).toMatchObject({ ok: true, event: { event: '$set', distinct_id: 'd', properties: { $set: { a: 1 }, $unset: ['b'] } } });
  });

  it('refuses an event with no distinct_id, or properties that are no object', () => {
    expect(mapPostHogEvent({ event: 'e', uuid: 'x' }, { sentAtMs: undefined, receivedAt })).toEqual({
      ok: false,
      eventId: 'x',
      errors: [{ path: 'distinct_id', message: expect.stringContaining('required') }],
    });
    expect(mapPostHogEvent({ event: 'e', distinct_id: 'd', properties: 'x' }, { sentAtMs: undefined, receivedAt })).toMatchObject({
      ok: false,
      errors: [{ path: 'properties' }],
    });
    expect(mapPostHogEvent(null, { sentAtMs: undefined, receivedAt })).toMatchObject({ ok: false });
  });
});
