import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage } from './support/browser.ts';
import { sendWithAnalyticsNext, sendWithPosthogJs } from './support/browser-clients.ts';
import { expectStoredOnce, only } from './support/expectations.ts';
import { type StoredEvent, useSdkPipeline } from './support/sdk-pipeline.ts';
import { startTestPageServer } from './support/test-page-server.ts';

/**
 * posthog-js and Segment's analytics-next in headless Chromium, on a test page served from
 * another origin than EAP's API (so every request is cross-origin, some with CORS preflights),
 * each configured only with EAP's URL and a write key. Events are stored once under the SDK's
 * ids, with the browser and OS the server's enrichment read from the user agent; identify links
 * the anonymous id to the user's person.
 */
const eap = useSdkPipeline('browser');
let browser: Browser;
let pages: Awaited<ReturnType<typeof startTestPageServer>>;

beforeAll(async () => {
  [browser, pages] = await Promise.all([launchChromium(), startTestPageServer()]);
});
afterAll(async () => {
  await browser?.close();
  await pages?.close();
});

/** Every request the page made to EAP, with its outcome: a CORS refusal shows as a failure. */
function watchEapRequests(page: Page) {
  const outcomes: string[] = [];
  page.on('requestfinished', (request) => {
    if (request.url().startsWith(eap.url))
      outcomes.push(`${request.method()} ${new URL(request.url()).pathname} ${request.response()?.status()}`);
  });
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(eap.url))
      outcomes.push(`${request.method()} ${new URL(request.url()).pathname} failed: ${request.failure()?.errorText}`);
  });
  return outcomes;
}

function expectBrowserEvent({ context, is_bot }: StoredEvent): void {
  expect(is_bot).toBe(false);
  expect(context).toMatchObject({
    browser: { name: expect.stringMatching(/chrom/i) },
    os: { name: 'Linux' },
    user_agent: expect.stringContaining('Chrome/'),
  });
}

describe('posthog-js in Chromium', () => {
  it('stores the pageview, captures and identify once each, with browser and OS, and links the anonymous id', async () => {
    const page = await openPage(browser, pages.url);
    const outcomes = watchEapRequests(page);
    const sent = await sendWithPosthogJs(page, eap.url, eap.writeKey);
    expect(sent.map((m) => m.event)).toEqual(['button_clicked', '$identify', 'checkout_started', '$pageview']);
    const ids = [...new Set(sent.map((m) => m.distinctId))];
    // posthog-js sends its queue on a timer.
    await eap.waitForEvents(sent.length, ids);
    await page.close();
    await eap.drained();
    expect(outcomes.filter((o) => !/ 2\d\d$/.test(o))).toEqual([]);

    const stored = await eap.events(ids);
    expect(stored).toHaveLength(sent.length);
    expectStoredOnce(sent, stored);
    for (const row of stored) expectBrowserEvent(row);
    expect(only(stored, 'button_clicked').properties).toMatchObject({ button: 'buy', price: 9.5 });
    expect(only(stored, '$pageview').properties).toMatchObject({ $current_url: `${pages.url}/` });
    const anonymousId = only(stored, 'button_clicked').distinct_id;
    expect(only(stored, '$identify')).toMatchObject({ distinct_id: 'web-ph-user-1', properties: { $anon_distinct_id: anonymousId } });

    const person = await eap.waitForPerson('web-ph-user-1', (p) => p.distinct_ids.includes(anonymousId), 'anonymous id linked');
    expect(person).toMatchObject({
      is_identified: true,
      distinct_ids: [anonymousId, 'web-ph-user-1'].sort(),
      properties: { email: 'lin@example.com', plan: 'team', first_browser: 'chromium' },
    });
  });
});

describe('analytics-next in Chromium', () => {
  it('fetches its settings from EAP, then stores page, track and identify once each, with browser and OS, and links the anonymous id', async () => {
    const page = await openPage(browser, pages.url);
    const outcomes = watchEapRequests(page);
    const sent = await sendWithAnalyticsNext(page, eap.url, eap.writeKey);
    await page.close();
    expect(sent.map((m) => m.event)).toEqual(['$pageview', 'Signup Clicked', '$identify', 'Trial Started']);
    expect(outcomes).toContain(`GET /v1/projects/${eap.writeKey}/settings 200`);
    expect(outcomes.filter((o) => !/ 2\d\d$/.test(o))).toEqual([]);
    const ids = [...new Set(sent.map((m) => m.distinctId))];
    await eap.waitForEvents(sent.length, ids);
    await eap.drained();

    const stored = await eap.events(ids);
    expect(stored).toHaveLength(sent.length);
    expectStoredOnce(sent, stored);
    for (const row of stored) expectBrowserEvent(row);
    expect(only(stored, '$pageview').properties).toMatchObject({ $page_name: 'Docs', section: 'sdk', $current_url: `${pages.url}/` });
    expect(only(stored, 'Signup Clicked').properties).toMatchObject({ plan: 'team' });
    const anonymousId = only(stored, 'Signup Clicked').distinct_id;
    expect(only(stored, '$identify')).toMatchObject({
      distinct_id: 'web-seg-user-1',
      properties: { $set: { email: 'mo@example.com', plan: 'team' }, $anon_distinct_id: anonymousId },
    });

    const person = await eap.waitForPerson('web-seg-user-1', (p) => p.distinct_ids.includes(anonymousId), 'anonymous id linked');
    expect(person).toMatchObject({ is_identified: true, properties: { email: 'mo@example.com', plan: 'team' } });
  });
});
