import { createInstance, Identify } from '@amplitude/analytics-node';
import { Analytics } from '@segment/analytics-node';
import { PostHog } from 'posthog-node';

/** One message an SDK sent, with the id it generated (what EAP must store as event_id). */
export interface SentMessage {
  /** The event name EAP should store. */
  event: string;
  distinctId: string;
  eventId: string;
  /** Milliseconds since the epoch when the test handed it to the SDK. */
  sentAt: number;
}

/**
 * analytics-node (Segment) configured only with EAP's URL and a write key: identify (traits),
 * track twice, page, alias, group; flushed and closed. Ids are read back from the SDK's own
 * callbacks (its generated messageId).
 */
export async function sendWithSegmentNode(
  host: string,
  writeKey: string,
  options: { maxRetries?: number; flushAt?: number } = {},
): Promise<SentMessage[]> {
  const analytics = new Analytics({
    writeKey,
    host,
    maxRetries: options.maxRetries,
    flushAt: options.flushAt ?? 20,
    flushInterval: 60_000,
  });
  const errors: unknown[] = [];
  analytics.on('error', (error) => errors.push(error));
  const sent: SentMessage[] = [];
  const record = (event: string, distinctId: string) => (error: unknown, ctx?: { event: { messageId?: string } }) => {
    if (error === undefined && ctx?.event.messageId !== undefined)
      sent.push({ event, distinctId, eventId: ctx.event.messageId, sentAt: Date.now() });
  };
  analytics.identify(
    { userId: 'seg-user-1', anonymousId: 'seg-anon-1', traits: { email: 'ada@example.com', plan: 'pro' } },
    record('$identify', 'seg-user-1'),
  );
  analytics.track(
    { userId: 'seg-user-1', event: 'Order Completed', properties: { revenue: 42.5, currency: 'EUR' } },
    record('Order Completed', 'seg-user-1'),
  );
  analytics.track(
    { anonymousId: 'seg-anon-2', event: 'Product Viewed', properties: { sku: 'A-1' } },
    record('Product Viewed', 'seg-anon-2'),
  );
  analytics.page(
    { userId: 'seg-user-1', name: 'Pricing', properties: { url: 'https://example.com/pricing' } },
    record('$pageview', 'seg-user-1'),
  );
  analytics.alias({ userId: 'seg-user-1', previousId: 'seg-old-1' }, record('$create_alias', 'seg-user-1'));
  analytics.group({ userId: 'seg-user-1', groupId: 'acme', traits: { name: 'Acme' } }, record('$groupidentify', 'seg-user-1'));
  await analytics.closeAndFlush({ timeout: 30_000 });
  if (errors.length > 0 && sent.length === 0) throw new Error(`analytics-node delivered nothing: ${String(errors[0])}`);
  return sent;
}

/**
 * posthog-node configured only with EAP's URL and a write key (as the project API key): capture,
 * identify with $set/$set_once, alias, groupIdentify; flushed and shut down. Ids are the uuids
 * of the messages the SDK reports as flushed.
 */
export async function sendWithPosthogNode(
  host: string,
  apiKey: string,
  options: { fetchRetryCount?: number; fetchRetryDelay?: number } = {},
): Promise<SentMessage[]> {
  const client = new PostHog(apiKey, {
    host,
    flushAt: 20,
    flushInterval: 60_000,
    fetchRetryCount: options.fetchRetryCount,
    fetchRetryDelay: options.fetchRetryDelay,
  });
  const sent: SentMessage[] = [];
  const start = Date.now();
  client.on('flush', (messages: { event: string; distinct_id: string; uuid: string }[]) => {
    for (const m of messages) sent.push({ event: m.event, distinctId: m.distinct_id, eventId: m.uuid, sentAt: start });
  });
  client.capture({ distinctId: 'ph-user-1', event: 'purchase', properties: { amount: 10, plan: 'pro' } });
  client.identify({
    distinctId: 'ph-user-1',
    properties: { $set: { email: 'grace@example.com', plan: 'pro' }, $set_once: { first_plan: 'free' } },
  });
  client.alias({ distinctId: 'ph-user-1', alias: 'ph-anon-1' });
  client.capture({ distinctId: 'ph-anon-2', event: 'signup', properties: { source: 'ad' } });
  client.groupIdentify({ groupType: 'company', groupKey: 'acme', properties: { name: 'Acme' } });
  await client.shutdown(30_000);
  return sent;
}

/**
 * @amplitude/analytics-node configured only with EAP's URL (`serverUrl` = EAP + /2/httpapi) and
 * a write key (as the API key): track with user_id and device_id, identify with user properties.
 * Each call's result carries the SDK's insert_id and the outcome it read from the reply.
 * `flush: 'explicit'` (default) calls `flush()`, which sends once and never retries (the SDK's
 * own choice); `'timer'` lets the SDK's flush timer send, which retries a 5xx or a cut reply.
 */
export async function sendWithAmplitudeNode(
  host: string,
  apiKey: string,
  options: { flush?: 'explicit' | 'timer' } = {},
): Promise<(SentMessage & { code: number })[]> {
  const amplitude = createInstance();
  const explicit = (options.flush ?? 'explicit') === 'explicit';
  await amplitude.init(apiKey, {
    serverUrl: `${host}/2/httpapi`,
    flushIntervalMillis: explicit ? 60_000 : 100,
    flushQueueSize: 20,
    logLevel: 0,
  }).promise;
  const start = Date.now();
  const results = [
    amplitude.track('Song Played', { title: 'Blue', seconds: 180 }, { user_id: 'amp-user-1', device_id: 'amp-device-1' }).promise,
    amplitude.identify(new Identify().set('plan', 'pro').setOnce('first_song', 'Blue'), {
      user_id: 'amp-user-1',
      device_id: 'amp-device-1',
    }).promise,
    amplitude.track('Song Skipped', { title: 'Red' }, { device_id: 'amp-device-2' }).promise,
  ];
  if (explicit) await amplitude.flush().promise;
  return (await Promise.all(results)).map((r) => ({
    event: r.event.event_type,
    distinctId: r.event.user_id ?? r.event.device_id ?? '',
    eventId: r.event.insert_id ?? '',
    sentAt: start,
    code: r.code,
  }));
}
