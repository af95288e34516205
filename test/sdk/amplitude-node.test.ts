import { describe, expect, it } from 'vitest';
import { expectStoredOnce, only } from './support/expectations.ts';
import { sendWithAmplitudeNode } from './support/node-clients.ts';
import { useSdkPipeline } from './support/sdk-pipeline.ts';

/**
 * Amplitude's analytics-node, configured only with `serverUrl` = EAP + /2/httpapi and a write key
 * as the API key, against a live EAP: each event is stored once per insert_id, the SDK reads a
 * success from the reply (its `code` field), and identify's user properties make a person that
 * holds both user_id and device_id.
 */
const eap = useSdkPipeline('amplitude-node');

describe('@amplitude/analytics-node', () => {
  it('stores track and identify under their insert_ids, reports success, and links device and user ids', async () => {
    const sent = await sendWithAmplitudeNode(eap.url, eap.writeKey);
    expect(sent.map((m) => [m.event, m.code])).toEqual([
      ['Song Played', 200],
      ['$identify', 200],
      ['Song Skipped', 200],
    ]);
    await eap.waitForEvents(sent.length);
    await eap.drained();
    const stored = await eap.events();
    expect(stored).toHaveLength(sent.length);
    expectStoredOnce(sent, stored);

    expect(only(stored, 'Song Played').properties).toMatchObject({ title: 'Blue', seconds: 180, $anon_distinct_id: 'amp-device-1' });
    expect(only(stored, 'Song Skipped')).toMatchObject({ distinct_id: 'amp-device-2', properties: { title: 'Red' } });
    expect(only(stored, '$identify').properties).toMatchObject({ $set: { plan: 'pro' }, $set_once: { first_song: 'Blue' } });

    const person = await eap.waitForPerson('amp-user-1', (p) => p.distinct_ids.length === 2, 'device id linked');
    expect(person).toMatchObject({ distinct_ids: ['amp-device-1', 'amp-user-1'], properties: { plan: 'pro', first_song: 'Blue' } });
  });
});
