// Records what the real SDK clients send: each client (the three Node SDKs, and posthog-js and
// analytics-next in headless Chromium on a page of another origin) is pointed at a local capture
// server, once answered normally and once with a 500 on its first event request (to see the
// retry). Writes test/fixtures/sdk-requests/<client>.json: method, path, query, headers and
// decoded body of every request. Run: node test/sdk/capture-requests.ts
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchChromium, openPage } from './support/browser.ts';
import { sendWithAnalyticsNext, sendWithPosthogJs } from './support/browser-clients.ts';
import { type CapturedRequest, startCaptureServer } from './support/capture-server.ts';
import { sendWithAmplitudeNode, sendWithPosthogNode, sendWithSegmentNode } from './support/node-clients.ts';
import { startTestPageServer } from './support/test-page-server.ts';

const KEY = 'eap_w_capture0000000000000000000000';
const out = fileURLToPath(new URL('../fixtures/sdk-requests/', import.meta.url));
const EVENT_PATHS = /^\/(v1\/(batch|[tipsga])|batch\/?|e\/?|i\/v0\/e\/?|2\/httpapi)$/;

/** Ports differ from run to run; fixtures keep a stable placeholder. */
function stable(requests: CapturedRequest[], urls: string[]): unknown {
  let text = JSON.stringify(requests, null, 2);
  for (const [i, url] of urls.entries()) text = text.replaceAll(new URL(url).host, i === 0 ? 'EAP_HOST' : 'PAGE_HOST');
  return JSON.parse(text);
}

let current: Awaited<ReturnType<typeof startCaptureServer>> | undefined;
const capturing = () => current!;

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('capture: timed out waiting for the retry');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function capture(name: string, run: (url: string) => Promise<unknown>, failFirst = false, extraUrls: () => string[] = () => []) {
  let failed = false;
  const server = await startCaptureServer({
    override: (request) => {
      if (failFirst && !failed && request.method === 'POST' && EVENT_PATHS.test(request.path)) {
        failed = true;
        return { status: 500, body: { error: 'capture: first event request fails' } };
      }
      return undefined;
    },
  });
  current = server;
  try {
    const started = Date.now();
    const result = await run(server.url);
    const file = `${out}${name}${failFirst ? '.retry-after-500' : ''}.json`;
    await writeFile(
      file,
      `${JSON.stringify({ client: name, failFirst, result: stable(result as CapturedRequest[], [server.url, ...extraUrls()]), requests: stable(server.requests, [server.url, ...extraUrls()]) }, null, 2)}\n`,
    );
    console.log(`${name}${failFirst ? ' (500 first)' : ''}: ${server.requests.length} requests in ${Date.now() - started} ms -> ${file}`);
  } finally {
    await server.close();
  }
}

await mkdir(out, { recursive: true });
for (const failFirst of [false, true]) {
  await capture('segment-analytics-node', (url) => sendWithSegmentNode(url, KEY), failFirst);
  await capture('posthog-node', (url) => sendWithPosthogNode(url, KEY, { fetchRetryDelay: 500 }), failFirst);
  await capture('amplitude-analytics-node', (url) => sendWithAmplitudeNode(url, KEY), failFirst);
  await capture('amplitude-analytics-node.timer-flush', (url) => sendWithAmplitudeNode(url, KEY, { flush: 'timer' }), failFirst);
}
const browser = await launchChromium();
const pages = await startTestPageServer();
try {
  for (const failFirst of [false, true]) {
    await capture(
      'posthog-js',
      async (url) => {
        const page = await openPage(browser, pages.url);
        const sent = await sendWithPosthogJs(page, url, KEY);
        // posthog-js sends in batches on a timer, and the rest by beacon when the page goes away.
        await new Promise((r) => setTimeout(r, failFirst ? 12_000 : 5_000));
        await page.goto(`${pages.url}/next`);
        await new Promise((r) => setTimeout(r, 1_000));
        await page.close();
        return sent;
      },
      failFirst,
      () => [pages.url],
    );
    await capture(
      'segment-analytics-next',
      async (url) => {
        const page = await openPage(browser, pages.url);
        const sent = await sendWithAnalyticsNext(page, url, KEY);
        // A failed send resolves the call too; the retry comes from the SDK's queue later.
        if (failFirst)
          await until(
            () =>
              capturing().requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/') && r.status === 200).length >=
              sent.length,
          );
        await page.close();
        return sent;
      },
      failFirst,
      () => [pages.url],
    );
  }
} finally {
  await browser.close();
  await pages.close();
}
