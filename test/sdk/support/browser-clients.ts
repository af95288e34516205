import type { Page } from 'puppeteer-core';
import type { SentMessage } from './node-clients.ts';

/**
 * posthog-js on the test page, pointed at EAP (`api_host`) with a write key as the project
 * token: autocapture and session recording off, `opt_out_useragent_filter` so a headless
 * browser is not dropped. Capture, identify (with $set and $set_once) and capture again as the
 * identified user; the SDK captures the initial $pageview on its own, last. Returns what the
 * SDK says it captured (uuids), once the $pageview was among them.
 */
export async function sendWithPosthogJs(page: Page, apiHost: string, token: string): Promise<SentMessage[]> {
  return page.evaluate(
    async (apiHost, token) => {
      // biome-ignore lint/suspicious/noExplicitAny: the page's global posthog
      const posthog = (globalThis as any).posthog;
      const sent: { event: string; distinctId: string; eventId: string; sentAt: number }[] = [];
      await new Promise<void>((resolve) => {
        posthog.init(token, {
          api_host: apiHost,
          opt_out_useragent_filter: true,
          autocapture: false,
          disable_session_recording: true,
          capture_pageview: true,
          capture_pageleave: false,
          persistence: 'memory',
          // biome-ignore lint/suspicious/noExplicitAny: posthog-js capture results
          before_send: (event: any) => {
            if (event) sent.push({ event: event.event, distinctId: event.properties.distinct_id, eventId: event.uuid, sentAt: Date.now() });
            return event;
          },
          loaded: () => resolve(),
        });
      });
      posthog.capture('button_clicked', { button: 'buy', price: 9.5 });
      posthog.identify('web-ph-user-1', { email: 'lin@example.com', plan: 'team' }, { first_browser: 'chromium' });
      posthog.capture('checkout_started', { items: 2 });
      // The initial $pageview is captured once the page's load settles, after these calls.
      while (!sent.some((m) => m.event === '$pageview')) await new Promise((r) => setTimeout(r, 20));
      return sent;
    },
    apiHost,
    token,
  );
}

/**
 * Segment's analytics-next (UMD bundle) loaded with the write key and `cdnURL` = EAP, so it
 * fetches `/v1/projects/<key>/settings` from EAP and sends where those settings say: page,
 * track, identify (with traits), track as the identified user. Each call resolves once
 * delivered; returns the messageIds.
 */
export async function sendWithAnalyticsNext(page: Page, cdnURL: string, writeKey: string): Promise<SentMessage[]> {
  return page.evaluate(
    async (cdnURL, writeKey) => {
      // biome-ignore lint/suspicious/noExplicitAny: the page's global AnalyticsNext
      const { AnalyticsBrowser } = (globalThis as any).AnalyticsNext;
      const analytics = AnalyticsBrowser.load({ writeKey, cdnURL });
      const sent: { event: string; distinctId: string; eventId: string; sentAt: number }[] = [];
      // biome-ignore lint/suspicious/noExplicitAny: analytics-next contexts
      const record = (event: string, ctx: any) =>
        sent.push({ event, distinctId: ctx.event.userId ?? ctx.event.anonymousId, eventId: ctx.event.messageId, sentAt: Date.now() });
      record('$pageview', await analytics.page('Docs', { section: 'sdk' }));
      record('Signup Clicked', await analytics.track('Signup Clicked', { plan: 'team' }));
      record('$identify', await analytics.identify('web-seg-user-1', { email: 'mo@example.com', plan: 'team' }));
      record('Trial Started', await analytics.track('Trial Started', { days: 14 }));
      return sent;
    },
    cdnURL,
    writeKey,
  );
}
