import type { FastifyRequest } from 'fastify';
import { EapError, isOriginAllowed, maxEventAgeDays } from '@eap/core';
import type { ApiConfig } from './config.ts';
import type { ApiMetrics } from './metrics.ts';
import type { AuthenticatedKey, KeyAuthenticator } from './key-authenticator.ts';
import { authenticateRequest } from './request-key.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { IngestService } from './ingest-service.ts';
import type { BacklogRefusal } from './backlog-monitor.ts';
import type { RequestContext } from './event-normalizer.ts';
import { sharedGeoLookup } from './enrichment/geoip.ts';
import { createRequestEnricher } from './enrichment/request-enrichment.ts';

/** What every ingest route needs, whatever protocol it speaks. */
export interface IngestRouteDeps {
  config: Pick<ApiConfig, 'STREAM_SHARDS' | 'EVENT_RETENTION_DAYS' | 'MAX_EVENT_AGE_DAYS'> & Partial<Pick<ApiConfig, 'GEOIP_DATABASE'>>;
  metrics: ApiMetrics;
  keys: KeyAuthenticator;
  rateLimiter: RateLimiter;
  /** Why this project's events must be refused now (backlog, memory or the project's share), if they must. */
  backlogRefusal: (projectId: string) => BacklogRefusal | undefined;
  /** True when the Redis connection is up. */
  streamReady: () => boolean;
  ingest: IngestService;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request arrived (ms): set once it is admitted for ingest. */
    receivedAt?: number | null;
  }
}

/**
 * Authenticates a write key and admits the request: the browser origin the project allows, rate
 * limit, stream up, backlog room. The key
 * comes from the headers unless the protocol carries it elsewhere (`rawKey`: the body, the query
 * string, HTTP Basic). Throws the EapError to answer with (or rejects with it, when the key had to
 * be looked up); leaves the key on `request.apiKey`. A key the cache knows is admitted at once,
 * without a promise.
 */
export function admitIngest(request: FastifyRequest, deps: IngestRouteDeps, rawKey?: string): AuthenticatedKey | Promise<AuthenticatedKey> {
  request.receivedAt ??= Date.now();
  const key = authenticateRequest(request, deps.keys, 'write', rawKey);
  return key instanceof Promise ? key.then((found) => admitKey(request, deps, found)) : admitKey(request, deps, key);
}

function admitKey(request: FastifyRequest, deps: IngestRouteDeps, key: AuthenticatedKey): AuthenticatedKey {
  // Browsers always send Origin on cross-origin requests; server-side senders send none.
  const origin = request.headers.origin;
  if (origin !== undefined && !isOriginAllowed(key.settings, origin)) {
    throw new EapError(
      'ORIGIN_NOT_ALLOWED',
      `the origin ${origin.slice(0, 300)} may not send events to this project; add it to the project's allowed_origins`,
    );
  }
  const waitSeconds = deps.rateLimiter.take(key.keyId);
  if (waitSeconds > 0) {
    deps.metrics.backpressureRefusals.inc({ reason: 'rate_limited' });
    throw new EapError('RATE_LIMITED', 'too many requests for this API key; slow down', { retryAfterSeconds: waitSeconds });
  }
  if (!deps.streamReady()) {
    deps.metrics.backpressureRefusals.inc({ reason: 'stream_unavailable' });
    throw new EapError('STREAM_UNAVAILABLE', 'the event stream is unavailable; nothing was accepted, retry later', {
      retryAfterSeconds: 2,
    });
  }
  const refusal = deps.backlogRefusal(key.projectId);
  if (refusal) {
    deps.metrics.backpressureRefusals.inc({ reason: refusal.reason });
    throw refusal.error;
  }
  return key;
}

/**
 * Builds the per-request context events are normalized with: project, receive time, the client's
 * send time for skew correction, shard count, the oldest accepted event time, and the server's
 * enrichment of the request (user agent, bot, GeoIP; per the project's settings), computed once
 * for all its events. The client address is `request.ip`: fastify's, through TRUSTED_PROXIES.
 */
export function requestContextBuilder(config: IngestRouteDeps['config']) {
  // Every builder of the process shares one GeoIP database in memory.
  const enricher = createRequestEnricher({ geo: sharedGeoLookup(config.GEOIP_DATABASE) });
  const ageDays = maxEventAgeDays(config);
  const ageLimit =
    config.EVENT_RETENTION_DAYS === undefined
      ? `MAX_EVENT_AGE_DAYS (${ageDays} days)`
      : `the retention of ${ageDays} days (EVENT_RETENTION_DAYS)`;
  // Requests received in the same millisecond share its ISO string.
  let isoMs = Number.NaN;
  let iso = '';
  /** `sentAtRaw` must already be a valid ISO date-time (or undefined). */
  return function contextOf(request: FastifyRequest, sentAtRaw: string | undefined): RequestContext {
    const receivedAt = request.receivedAt ?? Date.now();
    if (receivedAt !== isoMs) {
      isoMs = receivedAt;
      iso = new Date(receivedAt).toISOString();
    }
    const key = request.apiKey!;
    return {
      projectId: key.projectId,
      receivedAt,
      receivedAtIso: iso,
      sentAt: sentAtRaw === undefined ? undefined : Date.parse(sentAtRaw),
      sentAtRaw,
      shards: config.STREAM_SHARDS,
      oldestAccepted: receivedAt - ageDays * 86_400_000,
      ageLimit,
      enrichment: enricher.forRequest(request.ip, request.headers['user-agent'], key.settings),
    };
  };
}
