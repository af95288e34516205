import type { FastifyInstance } from 'fastify';
import { EapError, EVENT_LIMITS } from '@eap/core';
import type { DeletionResult } from '@eap/db';
import { adminTokenGuard } from '../admin-token.ts';

export interface DeletionRouteDeps {
  /** EAP_ADMIN_TOKEN; undefined disables the admin routes. */
  adminToken: string | undefined;
  deletePerson: (projectId: string, distinctId: string) => Promise<DeletionResult>;
  deleteProject: (projectId: string) => Promise<DeletionResult>;
}

/**
 * How long a deletion request waits for the events of its subject still in the streams (the
 * receipt says whether they were all written first); below the 30 s request timeout.
 */
export const DELETION_PIPELINE_WAIT_MS = 10_000;

const PROJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function projectIdOf(raw: string): string {
  if (!PROJECT_ID.test(raw)) throw new EapError('INVALID_REQUEST', `"${raw}" is not a project id (a UUID, as GET /v1/projects lists them)`);
  return raw.toLowerCase();
}

function receiptOf(result: DeletionResult, projectId: string, distinctId?: string) {
  if (result.status === 'deleted') return result.receipt;
  throw new EapError(
    'NOT_FOUND',
    result.what === 'project' ? `no project ${projectId}` : `nothing known of distinct id "${distinctId}" in project ${projectId}`,
  );
}

/**
 * DELETE /v1/projects/:project_id/persons/:distinct_id and DELETE /v1/projects/:project_id,
 * guarded by the admin token: each answers 200 with the deletion's receipt.
 */
export async function deletionRoutes(app: FastifyInstance, deps: DeletionRouteDeps): Promise<void> {
  app.addHook('onRequest', adminTokenGuard(deps.adminToken));

  app.delete<{ Params: { project_id: string; distinct_id: string } }>(
    '/v1/projects/:project_id/persons/:distinct_id',
    async (request, reply) => {
      const projectId = projectIdOf(request.params.project_id);
      const distinctId = request.params.distinct_id;
      if (distinctId.length === 0 || distinctId.length > EVENT_LIMITS.distinctIdMaxLength) {
        throw new EapError('INVALID_REQUEST', `distinct_id must be 1 to ${EVENT_LIMITS.distinctIdMaxLength} characters`);
      }
      const receipt = receiptOf(await deps.deletePerson(projectId, distinctId), projectId, distinctId);
      return reply.header('cache-control', 'no-store').send(receipt);
    },
  );

  app.delete<{ Params: { project_id: string } }>('/v1/projects/:project_id', async (request, reply) => {
    const projectId = projectIdOf(request.params.project_id);
    const receipt = receiptOf(await deps.deleteProject(projectId), projectId);
    return reply.header('cache-control', 'no-store').send(receipt);
  });
}
