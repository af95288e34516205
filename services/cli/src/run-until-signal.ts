import type { Logger } from '@eap/core';

/**
 * Runs a started service until SIGTERM or SIGINT, then stops it. A stop that takes longer than
 * `hardStopMs` ends the process with exit code 1 rather than hanging.
 */
export async function runUntilSignal(service: { stop(): Promise<void> }, logger: Logger, hardStopMs: number): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal }, 'shutting down');
  const hardStop = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, hardStopMs).unref();
  await service.stop();
  clearTimeout(hardStop);
  logger.info('stopped');
  return 0;
}
