import type { FastifyError, FastifyInstance } from 'fastify';
import { EapError } from '@eap/core';
import { isDatabaseUnavailable } from '@eap/db';
import type { ApiMetrics } from './metrics.ts';

const FASTIFY_CODES: Record<string, EapError['code']> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
};

/** Maps anything thrown while handling a request to an EapError; unknown errors become INTERNAL. */
export function toEapError(error: unknown): EapError {
  if (error instanceof EapError) return error;
  const e = error as Partial<FastifyError>;
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped === 'UNSUPPORTED_MEDIA_TYPE') {
    return new EapError(mapped, 'Content-Type must be application/json (or text/plain carrying JSON)');
  }
  if (mapped) return new EapError(mapped, e.message ?? mapped);
  if (e.code === 'FST_ERR_BAD_URL') {
    return new EapError('INVALID_REQUEST', 'the URL is not valid: its percent-encoded bytes must be UTF-8');
  }
  if (isDatabaseUnavailable(error)) {
    return new EapError('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later', { retryAfterSeconds: 2, cause: error });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new EapError('INVALID_REQUEST', e.message ?? 'invalid request');
  }
  return new EapError('INTERNAL', 'internal error; it has been logged', { cause: error });
}

/**
 * One error handler and one not-found handler for the whole public API: every error leaves as
 * `{"error":{"code","message","details"?}}` with the code's status and, for retriable refusals,
 * a `Retry-After` header.
 */
export function registerErrorHandling(app: FastifyInstance, metrics: ApiMetrics): void {
  app.setErrorHandler((error, request, reply) => {
    const eap = toEapError(error);
    if (eap.status >= 500 && eap.code === 'INTERNAL') {
      request.log.error({ err: error }, 'request failed');
    } else {
      request.log.debug({ code: eap.code, msg: eap.message }, 'request refused');
    }
    if (request.routeOptions.config.ingest) metrics.requestsRejected.inc({ code: eap.code });
    if (eap.retryAfterSeconds !== undefined) void reply.header('retry-after', String(eap.retryAfterSeconds));
    return reply.code(eap.status).send(eap.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const eap = new EapError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(eap.status).send(eap.toBody());
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Marks ingest routes, whose refusals are counted in eap_api_requests_rejected_total. */
    ingest?: boolean;
  }
}
