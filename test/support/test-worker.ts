import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createLogger, parseEnv } from '@eap/core';
import { createWorker, WorkerConfigSchema } from '@eap/worker';
import { waitFor } from './test-api.ts';

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

/**
 * Starts a worker, waits until each project of `expected` has at least its count of rows in
 * `events` (60 s at most), stops the worker, and returns the rows each project then has, counted
 * in the table: the caller compares them with what the API accepted.
 */
export async function storeWithWorker(
  options: { databaseUrl: string; redisUrl: string; pool: pg.Pool },
  expected: ReadonlyMap<string, number>,
): Promise<Map<string, number>> {
  const rows = async (projectId: string) =>
    Number((await options.pool.query('SELECT count(*) AS n FROM events WHERE project_id = $1', [projectId])).rows[0].n);
  const worker = await startTestWorker(options);
  try {
    for (const [projectId, count] of expected) {
      await waitFor(async () => (await rows(projectId)) >= count, 60_000, `${count} events of project ${projectId} stored`);
    }
  } finally {
    await worker.stop();
  }
  const stored = new Map<string, number>();
  for (const projectId of expected.keys()) stored.set(projectId, await rows(projectId));
  return stored;
}
