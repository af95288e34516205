import { createLogger } from '@eap/core';
import { createWorker, loadWorkerConfig } from '@eap/worker';
import { runUntilSignal } from '../run-until-signal.ts';

/**
 * `eap worker`: consumes the shard streams into PostgreSQL until SIGTERM/SIGINT, then finishes the
 * batch in hand (or leaves it pending for another worker) and exits 0.
 */
export async function workerCommand(): Promise<number> {
  const config = loadWorkerConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-worker' });
  const worker = await createWorker(config, logger);
  await worker.start();
  return runUntilSignal(worker, logger, config.SHUTDOWN_DRAIN_MS + 3000);
}
