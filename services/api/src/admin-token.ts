import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { EapError } from '@eap/core';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The check every admin route makes: `Authorization: Bearer <EAP_ADMIN_TOKEN>`. Register the
 * returned function as an `onRequest` hook of the admin routes' plugin. With no token configured
 * the admin routes are disabled (403).
 */
export function adminTokenGuard(adminToken: string | undefined): (request: FastifyRequest) => Promise<void> {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  return async (request) => {
    if (!expected) throw new EapError('FORBIDDEN', 'admin routes are disabled: set EAP_ADMIN_TOKEN to enable them');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Digests have equal length, so the comparison is constant-time whatever the token length.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new EapError('UNAUTHORIZED', 'missing or wrong admin token; send "Authorization: Bearer <EAP_ADMIN_TOKEN>"');
    }
  };
}
