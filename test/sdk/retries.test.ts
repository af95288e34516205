import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from './support/fault-proxy.ts';
import { type SentMessage, sendWithAmplitudeNode, sendWithPosthogNode, sendWithSegmentNode } from './support/node-clients.ts';
import { useSdkPipeline } from './support/sdk-pipeline.ts';

/**
 * What each Node SDK does when a send fails, against a live EAP behind a TCP proxy that loses
 * replies or connections on demand, counted in stored rows:
 * - the API accepts a batch and dies before replying (the proxy drops the reply, the API process
 *   is SIGKILLed and started again): analytics-node resends the batch (new sentAt, same
 *   messageIds) and posthog-node resends the identical body; EAP stores every event once.
 *   Amplitude's SDK does not retry a connection reset and reports the events failed (code 0),
 *   yet they were accepted: stored once.
 * - a connection reset before the API saw the request: analytics-node and posthog-node retry, all
 *   stored once; Amplitude's SDK drops the batch: nothing is stored.
 */
const eap = useSdkPipeline('sdk-retries');
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;

beforeAll(async () => {
  proxy = await startFaultProxy(eap.url);
});
afterAll(async () => {
  await proxy?.close();
});

type Send = (host: string) => Promise<(SentMessage & { code?: number })[]>;
const clients: { name: string; send: Send; retries: boolean }[] = [
  { name: '@segment/analytics-node', send: (host) => sendWithSegmentNode(host, eap.writeKey), retries: true },
  { name: 'posthog-node', send: (host) => sendWithPosthogNode(host, eap.writeKey, { fetchRetryDelay: 500 }), retries: true },
  { name: '@amplitude/analytics-node', send: (host) => sendWithAmplitudeNode(host, eap.writeKey), retries: false },
];

/** Rows per sent id once the streams drained (a late duplicate would show). */
async function copiesOf(sent: SentMessage[]): Promise<number[]> {
  await eap.drained();
  const stored = await eap.events();
  return sent.map((m) => stored.filter((row) => row.event_id === m.eventId).length);
}

describe.each(clients)('$name', ({ send, retries }) => {
  it('when the API accepts a batch and dies before replying: every event stored exactly once', async () => {
    const lost = proxy.loseNextReply();
    const sending = send(proxy.url);
    await lost;
    // The API accepted the batch (its reply had started) and now dies; the SDK's next attempt
    // waits at the proxy until a new API process serves.
    proxy.hold();
    await eap.killApi();
    proxy.release(await eap.startApi());
    const sent = await sending;
    await eap.waitForEvents(1, [...new Set(sent.map((m) => m.distinctId))]);
    expect(await copiesOf(sent)).toEqual(sent.map(() => 1));
    // Amplitude's SDK reports the batch failed (no reply, no retry): it was stored all the same.
    if (!retries) expect(sent.map((m) => m.code)).toEqual(sent.map(() => 0));
  });

  it(`when the connection is reset before EAP saw the request: ${retries ? 'the SDK retries, every event stored once' : 'the SDK drops the batch, nothing stored'}`, async () => {
    const reset = proxy.resetNextRequest();
    const sent = await send(proxy.url);
    await reset;
    if (retries) {
      await eap.waitForEvents(1, [...new Set(sent.map((m) => m.distinctId))]);
      expect(await copiesOf(sent)).toEqual(sent.map(() => 1));
    } else {
      expect(sent.map((m) => m.code)).toEqual(sent.map(() => 0));
      expect(await copiesOf(sent)).toEqual(sent.map(() => 0));
    }
  });
});
