import { ApiConfigSchema, createApiServer, loadApiConfig } from '@eap/api';
import { createLogger } from '@eap/core';
import { defineCommand } from '../command-line.ts';
import { reaching } from '../command-failure.ts';
import { runUntilSignal } from '../run-until-signal.ts';

/**
 * `eap api`: runs the ingest API until SIGTERM/SIGINT, then drains in-flight requests and exits 0
 * (within SHUTDOWN_DRAIN_MS plus the time to close clients).
 */
export const apiCommand = defineCommand({
  name: 'api',
  summary: 'run the ingest API (PORT, ADMIN_PORT)',
  details:
    'Serves the ingest, query, admin and docs routes (API_SERVE says which) on PORT and /metrics, /livez, /readyz on ADMIN_PORT, logging JSON to stdout. On SIGTERM or SIGINT it stops taking requests (after SHUTDOWN_DELAY_MS), finishes those in flight and exits 0.',
  options: {},
  environment: ApiConfigSchema,
  async run() {
    const config = loadApiConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-api' });
    const server = await reaching('cannot start', async () => {
      const server = await createApiServer(config, logger);
      await server.start();
      return server;
    });
    return runUntilSignal(server, logger, config.SHUTDOWN_DRAIN_MS + 1500);
  },
});
