import { describe, expect, it } from 'vitest';
import { mapSegmentMessage } from './segment-mapper.ts';

const context = { library: { name: '@segment/analytics-node', version: '3.1.0' }, ip: '203.0.113.9', locale: 'de-DE' };

describe('Segment messages as EAP raw events', () => {
  it('track: the event name, userId, messageId as event_id, timestamp, properties and the whole context', () => {
    const mapped = mapSegmentMessage({
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      anonymousId: 'a1',
      properties: { total: 30 },
      timestamp: '2026-01-31T12:00:00.000Z',
      messageId: 'm-1',
      context,
      integrations: {},
      _metadata: { jsRuntime: 'node' },
    });
    expect(mapped).toEqual({
      ok: true,
      event: {
        event: 'Order Completed',
        distinct_id: 'u1',
        event_id: 'm-1',
        timestamp: '2026-01-31T12:00:00.000Z',
        properties: { total: 30 },
        context,
      },
    });
  });

  it('distinct_id falls back to anonymousId; numeric ids become strings', () => {
    expect(mapSegmentMessage({ type: 'track', event: 'e', anonymousId: 'anon' })).toMatchObject({
      ok: true,
      event: { distinct_id: 'anon' },
    });
    expect(mapSegmentMessage({ type: 'track', event: 'e', userId: 42, messageId: 7 })).toMatchObject({
      ok: true,
      event: { distinct_id: '42', event_id: '7' },
    });
  });

  it('page → $pageview with $page_name and $current_url; screen → $screen with $screen_name', () => {
    expect(
      mapSegmentMessage({ type: 'page', name: 'Home', anonymousId: 'a', properties: { url: 'https://x.test/', title: 'X' } }),
    ).toMatchObject({
      ok: true,
      event: {
        event: '$pageview',
        properties: { url: 'https://x.test/', title: 'X', $page_name: 'Home', $current_url: 'https://x.test/' },
      },
    });
    expect(mapSegmentMessage({ type: 'screen', name: 'Cart', userId: 'u' })).toMatchObject({
      ok: true,
      event: { event: '$screen', properties: { $screen_name: 'Cart' } },
    });
  });

  it('identify → $identify with $set = traits and $anon_distinct_id when both ids are present', () => {
    expect(mapSegmentMessage({ type: 'identify', userId: 'u1', anonymousId: 'a1', traits: { plan: 'pro' } })).toMatchObject({
      ok: true,
      event: { event: '$identify', distinct_id: 'u1', properties: { $set: { plan: 'pro' }, $anon_distinct_id: 'a1' } },
    });
    const anonymousOnly = mapSegmentMessage({ type: 'identify', anonymousId: 'a1', traits: { plan: 'free' } });
    expect(anonymousOnly).toMatchObject({ ok: true, event: { distinct_id: 'a1', properties: { $set: { plan: 'free' } } } });
    expect(anonymousOnly.ok && anonymousOnly.event.properties).not.toHaveProperty('$anon_distinct_id');
  });

  it('alias → $create_alias (distinct_id = userId, alias = previousId); group → $groupidentify', () => {
    expect(mapSegmentMessage({ type: 'alias', userId: 'u1', previousId: 'a1' })).toMatchObject({
      ok: true,
      event: { event: '$create_alias', distinct_id: 'u1', properties: { alias: 'a1' } },
    });
    expect(mapSegmentMessage({ type: 'group', userId: 'u1', groupId: 'acme', traits: { seats: 5 } })).toMatchObject({
      ok: true,
      event: { event: '$groupidentify', properties: { $group_type: 'group', $group_key: 'acme', $group_set: { seats: 5 } } },
    });
  });

  it('the type of a single-call path wins; context.userAgent also becomes context.user_agent', () => {
    const mapped = mapSegmentMessage({ type: 'identify', event: 'Clicked', userId: 'u', context: { userAgent: 'Mozilla/5.0' } }, 'track');
    expect(mapped).toMatchObject({
      ok: true,
      event: { event: 'Clicked', context: { userAgent: 'Mozilla/5.0', user_agent: 'Mozilla/5.0' } },
    });
  });

  it('refuses what cannot be mapped, naming the Segment field and keeping the messageId', () => {
    expect(mapSegmentMessage({ type: 'track', event: 'e', messageId: 'm' })).toEqual({
      ok: false,
      eventId: 'm',
      errors: [{ path: 'userId', message: expect.stringContaining('anonymousId') }],
    });
    expect(mapSegmentMessage({ type: 'visit', userId: 'u' })).toMatchObject({ ok: false, errors: [{ path: 'type' }] });
    expect(mapSegmentMessage({ userId: 'u' })).toMatchObject({ ok: false, errors: [{ path: 'type' }] });
    expect(mapSegmentMessage({ type: 'alias', userId: 'u' })).toMatchObject({ ok: false, errors: [{ path: 'previousId' }] });
    expect(mapSegmentMessage({ type: 'group', userId: 'u' })).toMatchObject({ ok: false, errors: [{ path: 'groupId' }] });
    expect(mapSegmentMessage('track')).toMatchObject({ ok: false, errors: [{ path: '' }] });
  });

  it('leaves invalid values for the event schema to report (properties not an object)', () => {
    expect(mapSegmentMessage({ type: 'track', event: 'e', userId: 'u', properties: [1] })).toMatchObject({
      ok: true,
      event: { properties: [1] },
    });
  });
});
