import { describe, expect, it } from 'vitest';
import { amplitudeFieldOf, amplitudePersonOperations, mapAmplitudeEvent } from './amplitude-mapper.ts';

describe('Amplitude events as EAP raw events', () => {
  it('maps event_type, user_id, insert_id, time (ms), properties, session, library and device fields', () => {
    const mapped = mapAmplitudeEvent({
      event_type: 'Song Played',
      user_id: 'u1',
      device_id: 'dev-1',
      time: 1769904000123,
      insert_id: 'ins-1',
      event_id: 3,
      session_id: 1769904000000,
      event_properties: { genre: 'jazz' },
      user_properties: { plan: 'pro', $setOnce: { first_seen: 'x' }, $unset: { old: '-' } },
      library: 'amplitude-node/1.5.73',
      platform: 'Node.js',
      os_name: 'linux',
      ip: '$remote',
    });
    expect(mapped).toEqual({
      ok: true,
      event: {
        event: 'Song Played',
        distinct_id: 'u1',
        event_id: 'ins-1',
        timestamp: '2026-02-01T00:00:00.123Z',
        session_id: '1769904000000',
        properties: { genre: 'jazz', $set: { plan: 'pro' }, $set_once: { first_seen: 'x' }, $unset: ['old'], $anon_distinct_id: 'dev-1' },
        context: { platform: 'Node.js', os_name: 'linux', library: { name: 'amplitude-node', version: '1.5.73' } },
      },
    });
  });

  it('device_id alone is the distinct_id, with no $anon_distinct_id; session -1 is no session', () => {
    const mapped = mapAmplitudeEvent({ event_type: 'e', device_id: 'dev', session_id: -1 });
    expect(mapped).toMatchObject({ ok: true, event: { distinct_id: 'dev' } });
    expect(mapped.ok && mapped.event).not.toHaveProperty('session_id');
    expect(mapped.ok && mapped.event.properties).not.toHaveProperty('$anon_distinct_id');
  });

  it('$identify with user_properties.$set; unsupported operators are kept, not applied', () => {
    expect(amplitudePersonOperations({ $set: { a: 1 }, b: 2, $add: { n: 1 } })).toEqual({
      $set: { a: 1, b: 2 },
      other: { $add: { n: 1 } },
    });
    expect(mapAmplitudeEvent({ event_type: '$identify', user_id: 'u', user_properties: { $set: { a: 1 } } })).toMatchObject({
      ok: true,
      event: { event: '$identify', properties: { $set: { a: 1 } } },
    });
  });

  it('$groupidentify: groups and group_properties as $group_type, $group_key, $group_set', () => {
    expect(
      mapAmplitudeEvent({
        event_type: '$groupidentify',
        user_id: 'u',
        groups: { company: 'acme' },
        group_properties: { $set: { seats: 3 } },
      }),
    ).toMatchObject({ ok: true, event: { properties: { $group_type: 'company', $group_key: 'acme', $group_set: { seats: 3 } } } });
  });

  it('refuses missing and invalid fields with Amplitude names', () => {
    expect(mapAmplitudeEvent({ time: 'yesterday', insert_id: 'i' })).toEqual({
      ok: false,
      eventId: 'i',
      errors: [
        { path: 'event_type', message: 'is required' },
        { path: 'user_id', message: 'is required (or device_id)' },
        { path: 'time', message: expect.stringContaining('milliseconds') },
      ],
    });
    expect(mapAmplitudeEvent({ event_type: 'e', user_id: 'u', event_properties: [1] })).toMatchObject({
      ok: false,
      errors: [{ path: 'event_properties' }],
    });
  });

  it('names EAP error paths as Amplitude fields', () => {
    expect(amplitudeFieldOf('event')).toBe('event_type');
    expect(amplitudeFieldOf('distinct_id')).toBe('user_id');
    expect(amplitudeFieldOf('timestamp')).toBe('time');
    expect(amplitudeFieldOf('properties.$set.x')).toBe('user_properties');
    expect(amplitudeFieldOf('properties.genre')).toBe('event_properties');
    expect(amplitudeFieldOf('context.ip')).toBe('ip');
  });
});
