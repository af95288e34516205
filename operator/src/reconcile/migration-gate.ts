import type { ConditionUpdate } from './conditions.ts';

/** The fields of a Job the gate reads (the library's V1Job has them). */
export interface JobLike {
  metadata?: { name?: string };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; active?: number; failed?: number };
}

export type MigrationOutcome =
  | { state: 'succeeded' }
  | { state: 'failed'; reason: string; message: string }
  | { state: 'running'; message: string };

/** The outcome of a migration Job, from its `Complete`/`Failed` conditions. */
export function migrationOutcome(job: JobLike): MigrationOutcome {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { state: 'succeeded' };
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { state: 'failed', reason: failed.reason ?? 'Failed', message: failed.message ?? 'the migration Job failed' };
  const failures = job.status?.failed ?? 0;
  return {
    state: 'running',
    message: `Job ${job.metadata?.name} is running${failures > 0 ? ` (${failures} failed attempt(s) so far)` : ''}`,
  };
}

/**
 * Which image the API and workers run. They move to `desiredImage` only once its migration Job
 * succeeded; until then (and when it failed) they stay on the image they already run — the one
 * recorded in the status, or else the one the live API Deployment runs. Undefined on a fresh
 * install whose first migrations have not completed: no workloads yet.
 */
export function servingImage(options: {
  desiredImage: string;
  outcome: MigrationOutcome;
  statusImage: string | undefined;
  liveImage: string | undefined;
}): string | undefined {
  if (options.outcome.state === 'succeeded') return options.desiredImage;
  return options.statusImage ?? options.liveImage;
}

/** The MigrationsComplete condition for the Job of the desired image. */
export function migrationsCondition(
  jobName: string,
  desiredImage: string,
  outcome: MigrationOutcome,
  serving: string | undefined,
): ConditionUpdate {
  if (outcome.state === 'succeeded') {
    return {
      type: 'MigrationsComplete',
      status: 'True',
      reason: 'MigrationsSucceeded',
      message: `Job ${jobName} migrated the database for ${desiredImage}`,
    };
  }
  const still = serving ? `; ${serving} keeps serving` : '';
  if (outcome.state === 'failed') {
    return {
      type: 'MigrationsComplete',
      status: 'False',
      reason: 'MigrationJobFailed',
      message: `Job ${jobName} for ${desiredImage} failed (${outcome.reason}: ${outcome.message})${still}; see its pod logs, then fix the image or delete the Job to retry`,
    };
  }
  return { type: 'MigrationsComplete', status: 'False', reason: 'MigrationsRunning', message: `${outcome.message}${still}` };
}
