import { createLogger } from '@eap/core';
import { createWorker, loadWorkerConfig, WorkerConfigSchema } from '@eap/worker';
import { defineCommand } from '../command-line.ts';
import { reaching } from '../command-failure.ts';
import { runUntilSignal } from '../run-until-signal.ts';

/**
 * `eap worker`: consumes the shard streams into PostgreSQL until SIGTERM/SIGINT, then finishes the
 * batch in hand (or leaves it pending for another worker) and exits 0.
 */
export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'run a stream → PostgreSQL worker (ADMIN_PORT)',
  details:
    'Reads the shard streams as a member of the consumer group and writes the events to PostgreSQL; /metrics, /livez, /readyz on ADMIN_PORT, JSON logs on stdout. On SIGTERM or SIGINT it finishes the batch in hand and exits 0.',
  options: {},
  environment: WorkerConfigSchema,
  async run() {
    const config = loadWorkerConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'eap-worker' });
    const worker = await reaching('cannot start', async () => {
      const worker = await createWorker(config, logger);
      await worker.start();
      return worker;
    });
    return runUntilSignal(worker, logger, config.SHUTDOWN_DRAIN_MS + 3000);
  },
});
