import type { FastifyInstance } from 'fastify';
import { CreateProjectRequest, EapError, type ProjectSettings, ProjectSettingsUpdate, toFieldErrors } from '@eap/core';
import type { CreatedProject, ProjectSummary } from '@eap/db';
import { adminTokenGuard } from '../admin-token.ts';

export interface ProjectRouteDeps {
  /** EAP_ADMIN_TOKEN; undefined disables the admin routes. */
  adminToken: string | undefined;
  createProject: (name: string) => Promise<CreatedProject>;
  listProjects: () => Promise<ProjectSummary[]>;
  /** Changes some settings of a project; null when it does not exist. */
  updateProjectSettings: (projectId: string, update: ProjectSettingsUpdate) => Promise<ProjectSettings | null>;
}

const PROJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** POST /v1/projects, GET /v1/projects and PATCH /v1/projects/:project_id/settings, guarded by the admin token. */
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

  // Running APIs read settings with the key: a change applies within KEY_CACHE_TTL_MS.
  app.patch<{ Params: { project_id: string } }>('/v1/projects/:project_id/settings', async (request) => {
    const projectId = request.params.project_id;
    const parsed = ProjectSettingsUpdate.safeParse(request.body);
    if (!parsed.success) {
      throw new EapError('INVALID_REQUEST', 'send a JSON object with the settings to change', { details: toFieldErrors(parsed.error) });
    }
    const settings = PROJECT_ID.test(projectId) ? await deps.updateProjectSettings(projectId, parsed.data) : null;
    if (!settings) throw new EapError('NOT_FOUND', `no project ${projectId}`);
    return { project_id: projectId, settings };
  });
}
