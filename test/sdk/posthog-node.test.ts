import { describe, expect, it } from 'vitest';
import { expectStoredOnce, only } from './support/expectations.ts';
import { sendWithPosthogNode } from './support/node-clients.ts';
import { useSdkPipeline } from './support/sdk-pipeline.ts';

/**
 * posthog-node, configured only with EAP's URL as `host` and a write key as the project API key,
 * against a live EAP: its gzip `/batch/` is stored once per uuid, and identify ($set,
 * $set_once) and alias make persons.
 */
const eap = useSdkPipeline('posthog-node');

describe('posthog-node', () => {
  it('stores capture, identify, alias and groupIdentify under their uuids, and links the person', async () => {
    const sent = await sendWithPosthogNode(eap.url, eap.writeKey);
    expect(sent.map((m) => m.event)).toEqual(['purchase', '$identify', '$create_alias', 'signup', '$groupidentify']);
    await eap.waitForEvents(sent.length);
    await eap.drained();
    const stored = await eap.events();
    expect(stored).toHaveLength(sent.length);
    expectStoredOnce(sent, stored);

    expect(only(stored, 'purchase').properties).toMatchObject({ amount: 10, plan: 'pro', $lib: 'posthog-node' });
    expect(only(stored, 'signup')).toMatchObject({ distinct_id: 'ph-anon-2', properties: { source: 'ad' } });
    expect(only(stored, '$identify').properties).toMatchObject({ $set: { email: 'grace@example.com' }, $set_once: { first_plan: 'free' } });
    expect(only(stored, '$create_alias').properties).toMatchObject({ alias: 'ph-anon-1' });
    expect(only(stored, '$groupidentify').properties).toMatchObject({ $group_type: 'company', $group_key: 'acme' });

    const person = await eap.waitForPerson('ph-user-1', (p) => p.distinct_ids.length === 2, 'alias linked');
    expect(person).toMatchObject({
      distinct_ids: ['ph-anon-1', 'ph-user-1'],
      properties: { email: 'grace@example.com', plan: 'pro', first_plan: 'free' },
    });
  });
});
