import { EVENT_TIME_VARS, intVar, parseEnv, SHARED_VARS } from '@eap/core';
import { z } from 'zod';
import { trustedProxyProblem } from './enrichment/client-ip.ts';

/**
 * Admin tokens printed in the project's own files (docker-compose.yml, deploy/kind, the README).
 * Anyone can read them, so the API refuses them unless EAP_ALLOW_DEMO_TOKEN says this is a demo;
 * so is any token containing "change-me", the mark of a placeholder.
 */
export const DEMO_ADMIN_TOKENS = ['dev-admin-token-change-me', 'demo-admin-token-change-me'] as const;

/** Whether `token` is one of {@link DEMO_ADMIN_TOKENS} or another placeholder. */
export function isDemoAdminToken(token: string): boolean {
  return (DEMO_ADMIN_TOKENS as readonly string[]).includes(token) || /change-?me/i.test(token);
}

/**
 * Configuration of the ingest API, read from the environment once at start; a bad value is
 * reported together with every other bad value. Each variable is documented by its description;
 * its default and range are the schema's (reference: docs/configuration.md, `make docs`).
 */
export const ApiConfigSchema = z.object({
  ...SHARED_VARS,
  ...EVENT_TIME_VARS,
  PORT: intVar(8000, 0, 65535).describe('Public port: ingest, query, admin and docs routes (which of them: API_SERVE).'),
  EAP_ADMIN_TOKEN: z
    .string()
    .min(16, { error: 'must be at least 16 characters' })
    .optional()
    .describe(
      'Bearer token for the admin routes (`POST`/`GET /v1/projects`); unset, they answer 403. The demo tokens of docker-compose.yml and deploy/kind (and any token containing `change-me`) are refused unless `EAP_ALLOW_DEMO_TOKEN=true`.',
    ),
  EAP_ALLOW_DEMO_TOKEN: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true')
    .describe(
      'Accept a publicly known demo `EAP_ADMIN_TOKEN` (the docker compose and kind demos set `true`). Never set it where others can reach the API.',
    ),
  STREAM_BACKLOG_CAP: intVar(1_000_000, 1, 1_000_000_000).describe(
    'Undelivered + pending entries across all shards above which ingest answers 503 `BACKLOG_FULL`.',
  ),
  STREAM_BACKLOG_PROJECT_PERCENT: intVar(50, 1, 100).describe(
    'Share of `STREAM_BACKLOG_CAP` one project may hold (entries appended, not yet stored), in percent; beyond it that project gets 429 `PROJECT_BACKLOG_FULL` while the others are still accepted.',
  ),
  STREAM_BACKLOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .optional()
    .describe(
      "Redis memory (`used_memory`, bytes) at which ingest answers 503 `BACKLOG_FULL`; unset: `STREAM_BACKLOG_MEMORY_PERCENT` of Redis' `maxmemory`.",
    ),
  STREAM_BACKLOG_MEMORY_PERCENT: intVar(80, 1, 100).describe(
    "Without `STREAM_BACKLOG_MAX_BYTES`: share of Redis' `maxmemory` at which ingest answers 503 `BACKLOG_FULL`, leaving room for what is in flight and for the dead-letter stream.",
  ),
  BACKLOG_POLL_MS: intVar(1000, 50, 60_000).describe('How often the backlog is measured, in ms.'),
  BODY_LIMIT_BYTES: intVar(1024 * 1024, 1024, 64 * 1024 * 1024).describe('Largest request body after decompression, in bytes.'),
  KEY_CACHE_TTL_MS: intVar(30_000, 0, 30_000).describe(
    'How long a looked-up API key is trusted, in ms; a revoked key stops working within this time.',
  ),
  KEY_NEGATIVE_CACHE_TTL_MS: intVar(5_000, 0, 30_000).describe('How long an unknown key is remembered as unknown, in ms.'),
  RATE_LIMIT_PER_SECOND: intVar(1000, 0, 10_000_000).describe(
    'Sustained requests per second allowed per API key in each API process (token bucket); 0 disables the limit.',
  ),
  RATE_LIMIT_BURST: intVar(2000, 1, 10_000_000).describe('Token bucket size: requests a key may burst above the sustained rate.'),
  SHUTDOWN_DELAY_MS: intVar(0, 0, 60_000).describe(
    'On SIGTERM, keep serving this long before draining, in ms: /readyz answers 503 and every response closes its connection, so load balancers and kube-proxy move clients to other replicas before this one stops accepting. The operator sets 5000.',
  ),
  SHUTDOWN_DRAIN_MS: intVar(8000, 0, 60_000).describe(
    'Time allowed to finish in-flight requests on SIGTERM (after SHUTDOWN_DELAY_MS) before connections are closed, in ms.',
  ),
  REDIS_COMMAND_TIMEOUT_MS: intVar(2000, 100, 60_000).describe('Timeout of one Redis command, in ms; a slower append answers 503.'),
  QUERY_TIMEOUT_MS: intVar(10_000, 100, 600_000).describe(
    'Longest a query API request may run in PostgreSQL, in ms (`statement_timeout`); a slower query answers 504 `QUERY_TIMEOUT`.',
  ),
  QUERY_POOL_SIZE: intVar(4, 1, 100).describe(
    'PostgreSQL connections of the query API, a pool apart from the one that checks ingest keys, so slow queries never delay ingest.',
  ),
  QUERY_WORK_MEM_MB: intVar(64, 1, 4096).describe(
    '`work_mem` of each query, in MiB: memory for its sorts and hash tables before they spill to disk.',
  ),
  QUERY_RATE_LIMIT_PER_SECOND: intVar(10, 0, 100_000).describe(
    'Sustained query API requests per second allowed per read key (token bucket, per API process); 0 disables the limit.',
  ),
  QUERY_RATE_LIMIT_BURST: intVar(20, 1, 100_000).describe(
    'Query requests a read key may burst above the sustained rate (a dashboard loading all its panels).',
  ),
  QUERY_MAX_CONCURRENT_PER_KEY: intVar(2, 1, 1000).describe(
    'Queries one read key may have running at once in each API process; more answer 429 `TOO_MANY_QUERIES` with `Retry-After`.',
  ),
  QUERY_MAX_CONCURRENT: intVar(8, 1, 10_000).describe(
    'Queries each API process runs at once, all keys together; more answer 429 `TOO_MANY_QUERIES` with `Retry-After`. Those beyond QUERY_POOL_SIZE wait for a connection.',
  ),
  QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS: intVar(10_000, 100, 600_000).describe(
    'PostgreSQL ends a query transaction left idle this long, in ms (`idle_in_transaction_session_timeout`), so a stalled API process never holds a connection and an old snapshot.',
  ),
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((value, context) => {
      const entries = value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      for (const entry of entries) {
        const problem = trustedProxyProblem(entry);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }
      return entries;
    })
    .describe(
      'Load balancers and proxies in front of the API whose `X-Forwarded-For` is believed, comma-separated IP addresses or CIDR ranges (also `loopback`, `linklocal`, `uniquelocal`). The client address (GeoIP, `context.ip`) is the rightmost address of the header that is not one of them. Unset: none, the client is the peer of the connection and the header is ignored, so a client cannot choose its own address.',
    ),
  GEOIP_DATABASE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'mmdb files to look client addresses up in, comma-separated (ip-location-db or MaxMind City/Country layout): an IPv4 address goes to the first IPv4 database, or else the first IPv6 one; an IPv6 address to the first IPv6 database. Read by position, never into memory; opened on the first public address of a project with GeoIP on. Unset: the DB-IP IP to City Lite databases shipped with EAP (country, region and city; IPv4 and IPv6 files).',
    ),
  API_SERVE: z
    .enum(['all', 'ingest', 'query'], { error: 'must be all, ingest or query' })
    .default('all')
    .describe(
      'What this process serves on PORT. `all`: everything. `ingest`: ingest, project admin and docs; `/v1/query/*` answers 404 (run queries in another process). `query`: the query API and docs; ingest and admin routes answer 404, and Redis is neither connected nor needed for readiness. Probes and metrics are on ADMIN_PORT in every mode.',
    ),
});

/** The checks across variables: a demo admin token only where EAP_ALLOW_DEMO_TOKEN allows it. */
const ApiConfigChecked = ApiConfigSchema.superRefine((config, context) => {
  if (config.EAP_ADMIN_TOKEN !== undefined && isDemoAdminToken(config.EAP_ADMIN_TOKEN) && !config.EAP_ALLOW_DEMO_TOKEN) {
    context.addIssue({
      code: 'custom',
      path: ['EAP_ADMIN_TOKEN'],
      message:
        'is a publicly known demo token: set a secret one (e.g. `openssl rand -hex 24`), or EAP_ALLOW_DEMO_TOKEN=true for a local demo',
    });
  }
});
export type ApiConfig = z.infer<typeof ApiConfigSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(ApiConfigChecked, env);
}
