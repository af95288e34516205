import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '@eap/core';

/** One dependency's state as reported by /readyz. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<{ ok: boolean; detail?: unknown }>;
}

/**
 * The admin app (ADMIN_PORT, 9464): `/metrics` for Prometheus, `/livez` (the process is serving),
 * `/readyz` (every dependency check passes and the process is not shutting down). Kept off the
 * public port so metrics and probe details are not exposed to clients.
 */
export async function buildAdminApp(deps: {
  logger: Logger;
  registry: Registry;
  checks: ReadinessCheck[];
  isShuttingDown: () => boolean;
  checkTimeoutMs?: number;
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const timeoutMs = deps.checkTimeoutMs ?? 2000;

  app.get('/metrics', async (_request, reply) => {
    const body = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(body);
  });

  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results: Record<string, { ok: boolean; detail?: unknown }> = {};
    await Promise.all(
      deps.checks.map(async ({ name, check }) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          results[name] = await Promise.race([
            check(),
            new Promise<{ ok: boolean; detail: string }>((resolve) => {
              timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
            }),
          ]);
        } catch (error) {
          results[name] = { ok: false, detail: (error as Error).message };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const shuttingDown = deps.isShuttingDown();
    const ready = !shuttingDown && Object.values(results).every((r) => r.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', shutting_down: shuttingDown, checks: results });
  });
  return app;
}
