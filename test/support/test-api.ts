import { createLogger, parseEnv } from '@eap/core';
import { createProject } from '@eap/db';
import { ApiConfigSchema, createApiServer, type ApiServer } from '@eap/api';
import type pg from 'pg';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * The real API process graph (same composition root as `eap api`) on free loopback ports, with
 * its config parsed from env-style strings exactly as in production.
 */
export async function startTestApi(options: { databaseUrl: string; redisUrl: string; env?: Record<string, string> }) {
  const config = parseEnv(ApiConfigSchema, {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    PORT: '0',
    ADMIN_PORT: '0',
    HOST: '127.0.0.1',
    EAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    BACKLOG_POLL_MS: '50',
    // Tests send queries back to back; the query rate limit has its own test.
    QUERY_RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: process.env.EAP_TEST_LOG_LEVEL ?? 'silent',
    ...options.env,
  });
  const server: ApiServer = await createApiServer(config, createLogger({ level: config.LOG_LEVEL }));
  const { port, adminPort } = await server.start();
  // A query-only process never connects to Redis.
  if (config.API_SERVE !== 'query') await waitFor(() => server.redis.status === 'ready', 10_000, 'API connected to Redis');
  const baseUrl = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;

  async function send(
    path: string,
    init: { key?: string; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string>; method?: string } = {},
  ) {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
    if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
    const response = await fetch(baseUrl + path, {
      method: init.method ?? 'POST',
      headers,
      body:
        init.raw !== undefined
          ? (init.raw as string | Uint8Array<ArrayBuffer>)
          : init.body === undefined
            ? undefined
            : JSON.stringify(init.body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      status: response.status,
      headers: response.headers,
      // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response shapes
      json: json as any,
      text,
    };
  }

  return { server, config, baseUrl, adminUrl, send, stop: () => server.stop() };
}
export type TestApi = Awaited<ReturnType<typeof startTestApi>>;

/** Creates a project directly in the database; returns its id and keys. */
export async function createTestProject(pool: pg.Pool, name = 'test') {
  return createProject(pool, name);
}

/** Polls `condition` until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
