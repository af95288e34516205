import { randomBytes } from 'node:crypto';
import { createLogger, parseEnv } from '@eap/core';
import { createWorker, WorkerConfigSchema } from '@eap/worker';

/**
 * A real worker (same composition root as `eap worker`) in the test process, with short
 * intervals so recovery and trimming happen within a test.
 */
export async function startTestWorker(options: { databaseUrl: string; redisUrl: string; env?: Record<string, string> }) {
  const config = parseEnv(WorkerConfigSchema, {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    ADMIN_PORT: '0',
    HOST: '127.0.0.1',
    CONSUMER_NAME: `test-${randomBytes(4).toString('hex')}`,
    WORKER_BLOCK_MS: '50',
    CLAIM_INTERVAL_MS: '200',
    TRIM_INTERVAL_MS: '200',
    RETRY_BASE_MS: '20',
    RETRY_MAX_MS: '500',
    LOG_LEVEL: process.env.EAP_TEST_LOG_LEVEL ?? 'silent',
    ...options.env,
  });
  const worker = await createWorker(config, createLogger({ level: config.LOG_LEVEL }));
  const { adminPort } = await worker.start();
  return { worker, config, adminUrl: `http://127.0.0.1:${adminPort}`, stop: () => worker.stop() };
}
export type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;
