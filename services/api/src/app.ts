import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from '@eap/core';
import { uuidv7 } from '@eap/core';
import { registerCors } from './cors.ts';
import { registerErrorHandling, toEapError } from './http-errors.ts';
import { registerJsonBodyParser } from './json-body-parser.ts';
import type { ApiMetrics } from './metrics.ts';
import { requestLoggerFactory } from './request-logger.ts';
import type { OpenApiDocument } from './openapi.ts';
import { type DeletionRouteDeps, deletionRoutes } from './routes/deletion.routes.ts';
import { docsRoutes } from './routes/docs.routes.ts';
import { compatRoutes } from './routes/compat/index.ts';
import { ingestRoutes, type IngestRouteDeps } from './routes/ingest.routes.ts';
import { projectRoutes, type ProjectRouteDeps } from './routes/projects.routes.ts';
import { queryRoutes, type QueryRouteDeps } from './routes/query.routes.ts';
import { type ApiServe, servedElsewhereRoutes } from './routes/served-elsewhere.routes.ts';

export interface AppDeps {
  logger: Logger;
  metrics: ApiMetrics;
  bodyLimitBytes: number;
  ingest: Omit<IngestRouteDeps, 'metrics'>;
  projects: ProjectRouteDeps;
  deletions: DeletionRouteDeps;
  query: QueryRouteDeps;
  openapi: OpenApiDocument;
  /**
   * Which routes this process serves (API_SERVE): `all`, `ingest` (ingest, project admin, docs)
   * or `query` (query API, docs). Routes served elsewhere answer 404 saying so. Default `all`.
   */
  serve?: ApiServe;
  /**
   * TRUSTED_PROXIES: proxies whose X-Forwarded-For gives the client address (`request.ip`).
   * Default none: the peer of the connection is the client.
   */
  trustedProxies?: string[];
  /** True once the process is shutting down: responses then close their connection. */
  isShuttingDown?: () => boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The public HTTP app (port 8000): ingest, query, admin and docs routes, or a part of them
 * (`serve`). It does no I/O of its own; everything it talks to arrives in `deps`, so tests build
 * it with real clients and drive it with `inject()` or a real port.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    childLoggerFactory: requestLoggerFactory,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : uuidv7();
    },
    // Decompressed size is enforced by the body parser; this bounds the raw bytes.
    bodyLimit: deps.bodyLimitBytes,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    // A request that reaches a closing server (a kept-alive connection racing the drain) is
    // still served: refusing it would make the client resend what this process could store.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // A path parameter can be a distinct id of 200 characters, each up to 12 once URL-encoded (%F0%9F%98%80).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2400 },
    // proxy-addr's walk: the rightmost X-Forwarded-For address that is not a trusted proxy.
    trustProxy: deps.trustedProxies?.length ? deps.trustedProxies : false,
    // Errors fastify meets before routing (a path that is not valid percent-encoded UTF-8)
    // answer in the API's error shape too, not fastify's.
    frameworkErrors: (error, _request, reply) => {
      const eap = toEapError(error);
      void (reply as FastifyReply).code(eap.status).send(eap.toBody());
    },
  });

  // Fields the routes set on a request exist from its construction (fastify's decorators), so
  // every request object has one shape; set later, each adds a property to the object.
  app.decorateRequest('receivedAt', null);
  app.decorateRequest('apiKey', null);
  registerErrorHandling(app, deps.metrics);
  registerJsonBodyParser(app, deps.bodyLimitBytes);
  // Before any route: it gives every ingest route (config.ingest) its preflight and CORS headers.
  registerCors(app);

  // Synchronous hooks (callback style): no promise per request on the hot path.
  const isShuttingDown = deps.isShuttingDown ?? (() => false);
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // While shutting down, each response ends its keep-alive connection, so the client's next
    // request opens a new one, which the Service sends to a replica that is staying.
    if (isShuttingDown()) void reply.header('connection', 'close');
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.requestDuration.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) {
      request.log.error({ method: request.method, route, status: reply.statusCode, ms: reply.elapsedTime }, 'request failed');
    } else if (deps.logger.isLevelEnabled('debug')) {
      request.log.debug({ method: request.method, route, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    }
    done();
  });

  const serve = deps.serve ?? 'all';
  if (serve !== 'query') {
    await app.register(ingestRoutes, { ...deps.ingest, metrics: deps.metrics });
    await app.register(compatRoutes, { ...deps.ingest, metrics: deps.metrics });
    await app.register(projectRoutes, deps.projects);
    await app.register(deletionRoutes, deps.deletions);
  }
  if (serve !== 'ingest') await app.register(queryRoutes, deps.query);
  if (serve !== 'all') await app.register(servedElsewhereRoutes, { serve });
  await app.register(docsRoutes, { document: deps.openapi });
  app.get('/', async () => ({ name: 'eap', docs: '/docs', openapi: '/openapi.json' }));
  return app;
}
