import type { Redis } from 'ioredis';
import type pg from 'pg';
import { DLQ_STREAM } from '@eap/core';
import type { Progress } from './progress.ts';
import { pipelineBacklog } from './stream-backlog.ts';

/** Rows of one project in `events`. */
export async function projectRows(pool: pg.Pool, projectId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [projectId]);
  return rows[0]!.n;
}

/**
 * Waits until a pipeline has stored `target` rows: its streams hold nothing undelivered or pending
 * (`backlog`, cheap to poll) and `rows` counts at least `target` (counted only then, or once a
 * second, so the polling costs PostgreSQL little CPU). Returns when that was seen (Date.now())
 * and the rows counted; throws after `maxMs`.
 */
export async function waitUntilStored(options: {
  backlog: () => Promise<number>;
  rows: () => Promise<number>;
  target: number;
  progress: Progress;
  label: string;
  maxMs?: number;
}): Promise<{ finishedAt: number; rows: number }> {
  const deadline = Date.now() + (options.maxMs ?? 600_000);
  for (let poll = 0; ; poll++) {
    const backlog = await options.backlog();
    if (backlog === 0 || poll % 10 === 0) {
      const rows = await options.rows();
      if (rows >= options.target) return { finishedAt: Date.now(), rows };
      if (Date.now() > deadline) throw new Error(`${options.label}: only ${rows} of ${options.target} events committed in time`);
    }
    options.progress.update(`${options.label}: draining, backlog ${backlog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits until every event a load got accepted by EAP is committed (waitUntilStored over the shard
 * streams and the project's rows in `events`), then checks that nothing went to the dead-letter
 * stream: a figure is only reported for a run that stored everything it accepted.
 */
export async function waitForCommitted(options: {
  pool: pg.Pool;
  redis: Redis;
  shards: number;
  projectId: string;
  target: number;
  progress: Progress;
  label: string;
  maxMs?: number;
}): Promise<{ finishedAt: number; rows: number }> {
  const stored = await waitUntilStored({
    ...options,
    backlog: () => pipelineBacklog(options.redis, options.shards),
    rows: () => projectRows(options.pool, options.projectId),
  });
  const dead = await options.redis.xlen(DLQ_STREAM);
  if (dead > 0) throw new Error(`${options.label}: ${dead} events in ${DLQ_STREAM}`);
  return stored;
}
