import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { OpenApiDocument } from '../openapi.ts';

/** GET /openapi.json and the Swagger UI at /docs, both serving the generated document. */
export async function docsRoutes(app: FastifyInstance, deps: { document: OpenApiDocument }): Promise<void> {
  await app.register(swagger, {
    mode: 'static',
    // The document is OpenAPI 3.1; the plugin's typings only know 3.0 for static documents.
    specification: { document: deps.document as never },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', async () => deps.document);
}
