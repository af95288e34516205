import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The browser SDKs' own bundles, as users load them, served from the test page's origin. */
const SCRIPTS: Record<string, string> = {
  '/posthog.js': 'node_modules/posthog-js/dist/array.full.js',
  '/analytics-next.js': 'node_modules/@segment/analytics-next/dist/umd/index.js',
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>EAP SDK test page</title>
<script src="/posthog.js"></script>
<script src="/analytics-next.js"></script>
</head><body><h1>EAP SDK test page</h1><a id="next" href="/next">next</a></body></html>`;

/**
 * A static server for the browser SDK tests: `/` and `/next` are a page loading posthog-js
 * (array.full.js) and analytics-next (its UMD bundle, `window.AnalyticsNext`). It listens on
 * its own port, so the SDKs' requests to EAP are cross-origin.
 */
export async function startTestPageServer() {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const file = SCRIPTS[path];
    if (file !== undefined) {
      response.writeHead(200, { 'content-type': 'application/javascript' });
      response.end(await readFile(root + file));
    } else if (path === '/' || path === '/next') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // localhost, not 127.0.0.1: another origin than the API's even on the same machine.
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
