import { ApiConfigSchema } from '@eap/api';
import { SHARED_VARS } from '@eap/core';
import { z } from 'zod';

// The environment the CLI commands read besides `eap api` and `eap worker` (whose schemas live
// with their services). Each command parses only what it needs, so `eap migrate` runs without
// REDIS_URL and `eap dlq` without DATABASE_URL.

/** `eap migrate`, `eap project`, `eap key`: PostgreSQL only. */
export const DatabaseConfigSchema = z.object({
  DATABASE_URL: SHARED_VARS.DATABASE_URL,
});

/** `eap dlq`: Redis only; the shard count says which streams replayed entries go back to. */
export const DlqConfigSchema = z.object({
  REDIS_URL: SHARED_VARS.REDIS_URL,
  STREAM_SHARDS: SHARED_VARS.STREAM_SHARDS,
});

/**
 * `eap person delete`, `eap project delete`: PostgreSQL, and Redis to wait for the events still in
 * the streams (without REDIS_URL that is not checked, and the receipt says so).
 */
export const DeletionConfigSchema = z.object({
  DATABASE_URL: SHARED_VARS.DATABASE_URL,
  REDIS_URL: SHARED_VARS.REDIS_URL.optional(),
  STREAM_SHARDS: SHARED_VARS.STREAM_SHARDS,
});

/** `eap seed`: talks to a running API over HTTP. */
export const SeedConfigSchema = z.object({
  EAP_ADMIN_TOKEN: ApiConfigSchema.shape.EAP_ADMIN_TOKEN.describe(
    "The API's admin token, used to create the seed projects (`POST /v1/projects`) when neither `--key` nor an existing `--keys-file` names them.",
  ),
});
