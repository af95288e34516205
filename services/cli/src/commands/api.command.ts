import { createLogger } from '@eap/core';
import { createApiServer, loadApiConfig } from '@eap/api';
import { runUntilSignal } from '../run-until-signal.ts';

/**
 * `eap api`: runs the ingest API until SIGTERM/SIGINT, then drains in-flight requests and exits 0
 * (within SHUTDOWN_DRAIN_MS plus the time to close clients).
 */
export async function apiCommand(): Promise<number> {
  const config = loadApiConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-api' });
  const server = await createApiServer(config, logger);
  await server.start();
  return runUntilSignal(server, logger, config.SHUTDOWN_DRAIN_MS + 1500);
}
