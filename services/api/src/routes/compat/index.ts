import type { FastifyInstance } from 'fastify';
import type { IngestRouteDeps } from '../../ingest-admission.ts';
import { amplitudeRoutes } from './amplitude.routes.ts';
import { posthogRoutes } from './posthog.routes.ts';
import { segmentRoutes } from './segment.routes.ts';

/**
 * The SDK-compatible ingest endpoints (Segment, PostHog, Amplitude), each a plugin of its own so
 * each keeps its own error answers. Segment's /v1/batch lives with EAP's in ingest.routes.ts.
 */
export async function compatRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  await app.register(segmentRoutes, deps);
  await app.register(posthogRoutes, deps);
  await app.register(amplitudeRoutes, deps);
}
