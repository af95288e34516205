import { createLogger } from '@eap/core';
import { createApiServer, loadApiConfig } from '@eap/api';

/**
 * `eap api`: runs the ingest API until SIGTERM/SIGINT, then drains in-flight requests and exits 0
 * (within SHUTDOWN_DRAIN_MS plus the time to close clients).
 */
export async function apiCommand(): Promise<number> {
  const config = loadApiConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-api' });
  const server = await createApiServer(config, logger);
  await server.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal }, 'shutting down');
  // A second signal or a stuck close must still end the process.
  const hardStop = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, config.SHUTDOWN_DRAIN_MS + 1500).unref();
  await server.stop();
  clearTimeout(hardStop);
  logger.info('stopped');
  return 0;
}
