import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, RouteOptions } from 'fastify';
import { isOriginAllowed } from '@eap/core';

/** Headers a preflight may ask for: at most this many, each an HTTP token. */
const MAX_REQUEST_HEADERS = 30;
const MAX_REQUEST_HEADERS_LENGTH = 1000;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The headers a preflight asks for (Access-Control-Request-Headers), bounded, tokens only. */
export function allowedRequestHeaders(requested: string | undefined): string | undefined {
  if (requested === undefined || requested.length > MAX_REQUEST_HEADERS_LENGTH) return undefined;
  const names = requested
    .split(',')
    .map((name) => name.trim())
    .filter((name) => TOKEN.test(name))
    .slice(0, MAX_REQUEST_HEADERS);
  return names.length > 0 ? names.join(', ') : undefined;
}

/**
 * Answers a CORS preflight. It carries no API key, so the project (and its allowed_origins) is
 * unknown here: the answer allows any origin, and the real request, which carries the key, is
 * refused with 403 ORIGIN_NOT_ALLOWED when the project does not allow its Origin (admitIngest).
 */
function preflight(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  void reply.header('access-control-allow-origin', origin ?? '*');
  void reply.header('vary', 'Origin, Access-Control-Request-Headers');
  void reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
  const headers = allowedRequestHeaders(request.headers['access-control-request-headers']);
  if (headers !== undefined) void reply.header('access-control-allow-headers', headers);
  // EAP authenticates with keys, never cookies: allowing credentials grants nothing, and lets
  // SDKs that send with credentials (XHR withCredentials) read the answer.
  if (origin !== undefined) void reply.header('access-control-allow-credentials', 'true');
  void reply.header('access-control-max-age', '86400');
  void reply.code(204).send();
}

/**
 * On every response of an ingest route, errors included: Access-Control-Allow-Origin names the
 * request's Origin when its project allows that origin. Before a key is known (a missing or
 * unknown key) the answer names it too, as the preflight did, so a browser can read the 401.
 */
const allowOrigin: onSendHookHandler = function allowOrigin(request, reply, payload, done) {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const settings = request.apiKey?.settings;
    if (settings === undefined || isOriginAllowed(settings, origin)) {
      void reply.header('access-control-allow-origin', origin);
      void reply.header('access-control-allow-credentials', 'true');
      void reply.header('access-control-expose-headers', 'Retry-After, X-Request-Id');
    }
    void reply.header('vary', 'Origin');
  }
  done(null, payload);
};

/**
 * CORS for the ingest routes (`config: { ingest: true }`), those registered after this call in any
 * plugin: an OPTIONS route answering preflights at the same path, and the allow-origin headers on
 * their responses. Register it before the routes.
 */
export function registerCors(app: FastifyInstance): void {
  const preflightPaths = new Set<string>();
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.config?.ingest) return;
    route.onSend = route.onSend === undefined ? [allowOrigin] : [...[route.onSend].flat(), allowOrigin];
    if (preflightPaths.has(route.url)) return;
    preflightPaths.add(route.url);
    app.route({ method: 'OPTIONS', url: route.url, handler: preflight, schema: { hide: true } });
  });
}
