import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** What the operator reports about itself on /livez and /readyz. */
export interface HealthState {
  /** The process works and is not shutting down. */
  live(): boolean;
  /** Ready, and why or why not (e.g. which caches are still syncing). */
  readiness(): { ready: boolean; role: 'leader' | 'standby' | 'single'; detail: string };
  /** Holds the leader Lease (or runs without leader election). */
  leader(): boolean;
}

/**
 * The operator's admin endpoints on METRICS_PORT:
 * - `/metrics`: Prometheus;
 * - `/livez`: 200 while the process works (it answers, so its event loop turns) and is not
 *   shutting down; `/healthz` is the same (the probe path of earlier releases);
 * - `/readyz`: 200 when the replica does its part: the leader holds the Lease and its caches are
 *   synced; a standby's Lease attempts get answers from the API server.
 * Bodies are JSON: `{ status, leader }`, and for /readyz also `role` and `detail`.
 */
export async function startHealthServer(options: { host: string; port: number; registry: Registry; state: HealthState }): Promise<Server> {
  const { registry, state } = options;
  const server = createServer((request, response) => {
    const send = (code: number, body: unknown, type = 'application/json; charset=utf-8') => {
      response.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return send(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } });
    switch (path) {
      case '/metrics':
        registry.metrics().then(
          (text) => send(200, text, registry.contentType),
          (error: unknown) => send(500, { error: { code: 'METRICS_FAILED', message: String(error) } }),
        );
        return;
      case '/livez':
      case '/healthz': {
        const live = state.live();
        return send(live ? 200 : 503, { status: live ? 'ok' : 'shutting down', leader: state.leader() });
      }
      case '/readyz': {
        const { ready, role, detail } = state.readiness();
        return send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', role, leader: state.leader(), detail });
      }
      default:
        return send(404, { error: { code: 'NOT_FOUND', message: `no route ${path}` } });
    }
  });
  // Probes and scrapes are short: a stuck client must not hold a socket for long.
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function closeHealthServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
