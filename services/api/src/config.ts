import { intVar, parseEnv, SHARED_VARS } from '@eap/core';
import { z } from 'zod';

/**
 * Configuration of the ingest API, read from the environment once at start. Every variable is
 * documented with its default; a bad value is reported together with every other bad value.
 */
export const ApiConfigSchema = z.object({
  ...SHARED_VARS,
  /** Public port for ingest, admin and docs routes. Default 8000. */
  PORT: intVar(8000, 0, 65535),
  /** Token for admin routes (POST /v1/projects). Unset: admin routes answer 403. At least 16 characters. */
  EAP_ADMIN_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  /** Undelivered + pending entries across all shards above which ingest answers 503. Default 1,000,000. */
  STREAM_BACKLOG_CAP: intVar(1_000_000, 1, 1_000_000_000),
  /** How often the backlog is measured, in ms. Default 1000. */
  BACKLOG_POLL_MS: intVar(1000, 50, 60_000),
  /** Largest request body after decompression, in bytes. Default 1 MiB. */
  BODY_LIMIT_BYTES: intVar(1024 * 1024, 1024, 64 * 1024 * 1024),
  /** How long a looked-up API key is trusted, in ms; a revoked key stops working within this time. Default 30000 (the maximum). */
  KEY_CACHE_TTL_MS: intVar(30_000, 0, 30_000),
  /** How long an unknown key is remembered as unknown, in ms. Default 5000. */
  KEY_NEGATIVE_CACHE_TTL_MS: intVar(5_000, 0, 30_000),
  /** Sustained requests per second allowed per API key (token bucket); 0 disables the limit. Default 1000. */
  RATE_LIMIT_PER_SECOND: intVar(1000, 0, 10_000_000),
  /** Token bucket size: requests a key may burst above the sustained rate. Default 2000. */
  RATE_LIMIT_BURST: intVar(2000, 1, 10_000_000),
  /** Time allowed to drain in-flight requests on SIGTERM before connections are closed, in ms. Default 8000. */
  SHUTDOWN_DRAIN_MS: intVar(8000, 0, 60_000),
  /** Timeout of one Redis command, in ms; a slower append answers 503. Default 2000. */
  REDIS_COMMAND_TIMEOUT_MS: intVar(2000, 100, 60_000),
});
export type ApiConfig = z.infer<typeof ApiConfigSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(ApiConfigSchema, env);
}
