import type { FastifyRequest } from 'fastify';
import { EapError } from '@eap/core';
import type { AuthenticatedKey, KeyAuthenticator } from './key-authenticator.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated key, once a route that needs one has checked it. */
    apiKey?: AuthenticatedKey | null;
  }
}

/**
 * The API key of a request: `Authorization: Bearer <key>`, `X-Api-Key: <key>`, or the user name of
 * `Authorization: Basic base64(<key>:)` (Segment's SDKs send their write key so).
 */
export function readApiKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
    const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
    if (basic) return basicUserName(basic[1]!);
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey.trim() : undefined;
}

/** The user name of HTTP Basic credentials (`user:password`, base64), if it is a plausible key. */
function basicUserName(encoded: string): string | undefined {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user.length > 0 && /^[\x21-\x7e]+$/.test(user) ? user : undefined;
}

const NEEDS: Record<AuthenticatedKey['kind'], string> = { write: 'ingest needs', read: 'queries need' };

/**
 * Authenticates the request's key for routes that need a key of `kind` (write: ingest, read:
 * queries): a missing or unknown key is 401 UNAUTHORIZED, a key of the other kind 403 FORBIDDEN.
 * The key is left on `request.apiKey`. `rawKey` defaults to the one in the headers; protocols that
 * carry it elsewhere (body, query string, HTTP Basic) pass it. When the key cache already knows
 * the key (nearly every request), the answer is immediate, thrown or returned, not a promise.
 */
export function authenticateRequest(
  request: FastifyRequest,
  keys: KeyAuthenticator,
  kind: AuthenticatedKey['kind'],
  rawKey: string | undefined = readApiKey(request),
): AuthenticatedKey | Promise<AuthenticatedKey> {
  if (!rawKey || rawKey.length > 256) return acceptKey(request, kind, null);
  const known = keys.known(rawKey);
  if (known !== undefined) return acceptKey(request, kind, known);
  return keys.authenticate(rawKey).then((key) => acceptKey(request, kind, key));
}

function acceptKey(request: FastifyRequest, kind: AuthenticatedKey['kind'], key: AuthenticatedKey | null): AuthenticatedKey {
  if (!key) {
    throw new EapError(
      'UNAUTHORIZED',
      `missing or unknown API key; send a ${kind} key as "Authorization: Bearer <key>" or "X-Api-Key: <key>"${kind === 'write' ? ' (SDK-compatible endpoints: where the SDK puts its key, docs/sdk-endpoints.md)' : ''}`,
    );
  }
  if (key.kind !== kind) {
    throw new EapError('FORBIDDEN', `this is a ${key.kind} key; ${NEEDS[kind]} the project's ${kind} key`);
  }
  request.apiKey = key;
  return key;
}
