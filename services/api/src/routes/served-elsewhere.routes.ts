import type { FastifyInstance } from 'fastify';
import { EapError } from '@eap/core';

/** What a process started with API_SERVE serves on its public port. */
export type ApiServe = 'all' | 'ingest' | 'query';

/**
 * Routes of the public API that another process serves (API_SERVE=ingest or query): each
 * answers 404 NOT_FOUND saying where the route is served, instead of the anonymous "no route".
 */
export async function servedElsewhereRoutes(app: FastifyInstance, deps: { serve: Exclude<ApiServe, 'all'> }): Promise<void> {
  const refuse = (what: string, where: string) => async (request: { method: string; url: string }) => {
    throw new EapError(
      'NOT_FOUND',
      `${request.method} ${request.url.split('?')[0]}: ${what} is not served by this process (API_SERVE=${deps.serve}); ${where}`,
    );
  };
  if (deps.serve === 'ingest') {
    const queryElsewhere = refuse('the query API', 'send queries to the query service (a process with API_SERVE=query)');
    for (const path of ['/v1/query/*', '/v1/persons/*']) app.all(path, queryElsewhere);
    return;
  }
  const ingestElsewhere = refuse('ingest and project admin', 'send events and admin requests to the ingest API (API_SERVE=ingest)');
  for (const path of ['/v1/events', '/v1/batch', '/v1/projects']) app.all(path, ingestElsewhere);
}
