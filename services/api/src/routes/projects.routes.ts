import type { FastifyInstance } from 'fastify';
import { CreateProjectRequest, EapError, toFieldErrors } from '@eap/core';
import type { CreatedProject, ProjectSummary } from '@eap/db';
import { adminTokenGuard } from '../admin-token.ts';

export interface ProjectRouteDeps {
  /** EAP_ADMIN_TOKEN; undefined disables the admin routes. */
  adminToken: string | undefined;
  createProject: (name: string) => Promise<CreatedProject>;
  listProjects: () => Promise<ProjectSummary[]>;
}

/** POST /v1/projects and GET /v1/projects, guarded by the admin token. */
export async function projectRoutes(app: FastifyInstance, deps: ProjectRouteDeps): Promise<void> {
  app.addHook('onRequest', adminTokenGuard(deps.adminToken));

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
