import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CreateProjectRequest, EapError, toFieldErrors } from '@eap/core';
import type { CreatedProject, ProjectSummary } from '@eap/db';

export interface ProjectRouteDeps {
  /** EAP_ADMIN_TOKEN; undefined disables the admin routes. */
  adminToken: string | undefined;
  createProject: (name: string) => Promise<CreatedProject>;
  listProjects: () => Promise<ProjectSummary[]>;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** POST /v1/projects and GET /v1/projects, guarded by the admin token. */
export async function projectRoutes(app: FastifyInstance, deps: ProjectRouteDeps): Promise<void> {
  const expected = deps.adminToken === undefined ? undefined : digest(deps.adminToken);

  app.addHook('onRequest', async (request) => {
    if (!expected) throw new EapError('FORBIDDEN', 'admin routes are disabled: set EAP_ADMIN_TOKEN to enable them');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Digests have equal length, so the comparison is constant-time whatever the token length.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new EapError('UNAUTHORIZED', 'missing or wrong admin token; send "Authorization: Bearer <EAP_ADMIN_TOKEN>"');
    }
  });

  app.post('/v1/projects', async (request, reply) => {
    const parsed = CreateProjectRequest.safeParse(request.body);
    if (!parsed.success) {
      throw new EapError('INVALID_REQUEST', 'send {"name": "<project name>"}', { details: toFieldErrors(parsed.error) });
    }
    const created = await deps.createProject(parsed.data.name);
    return reply.code(201).header('cache-control', 'no-store').send(created);
  });

  app.get('/v1/projects', async () => ({ projects: await deps.listProjects() }));
}
