import { describe, expect, it } from 'vitest';
import { expectStoredOnce, only } from './support/expectations.ts';
import { sendWithSegmentNode } from './support/node-clients.ts';
import { useSdkPipeline } from './support/sdk-pipeline.ts';

/**
 * Segment's analytics-node, configured only with EAP's URL as `host` and a write key, against a
 * live EAP (API and worker processes, PostgreSQL, Redis): what it sends is stored once under its
 * messageId, mapped to EAP's events, and its identify/alias calls make persons.
 */
const eap = useSdkPipeline('segment-node');

describe('@segment/analytics-node', () => {
  it('stores track, identify, page, alias and group under their messageIds, and links the person', async () => {
    const sent = await sendWithSegmentNode(eap.url, eap.writeKey);
    // The SDK's callbacks come in no fixed order.
    expect(sent.map((m) => m.event).sort()).toEqual(
      ['$identify', 'Order Completed', 'Product Viewed', '$pageview', '$create_alias', '$groupidentify'].sort(),
    );
    await eap.waitForEvents(sent.length);
    await eap.drained();
    const stored = await eap.events();
    expect(stored).toHaveLength(sent.length);
    expectStoredOnce(sent, stored);

    expect(only(stored, 'Order Completed').properties).toMatchObject({ revenue: 42.5, currency: 'EUR' });
    expect(only(stored, 'Product Viewed')).toMatchObject({ distinct_id: 'seg-anon-2', properties: { sku: 'A-1' } });
    expect(only(stored, '$pageview').properties).toMatchObject({ $page_name: 'Pricing', $current_url: 'https://example.com/pricing' });
    expect(only(stored, '$identify').properties).toMatchObject({
      $set: { email: 'ada@example.com', plan: 'pro' },
      $anon_distinct_id: 'seg-anon-1',
    });
    expect(only(stored, '$create_alias').properties).toMatchObject({ alias: 'seg-old-1' });
    expect(only(stored, '$groupidentify').properties).toMatchObject({ $group_key: 'acme', $group_set: { name: 'Acme' } });
    // Segment's context is kept (the library that sent it); a server-side SDK is no bot.
    expect(stored.every((row) => !row.is_bot)).toBe(true);
    expect(only(stored, 'Order Completed').context).toMatchObject({ library: { name: '@segment/analytics-node' } });

    const person = await eap.waitForPerson('seg-user-1', (p) => p.distinct_ids.length === 3, 'user, anonymous and previous ids linked');
    expect(person).toMatchObject({
      is_identified: true,
      distinct_ids: ['seg-anon-1', 'seg-old-1', 'seg-user-1'],
      properties: { email: 'ada@example.com', plan: 'pro' },
    });
  });
});
