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
 * Waits until every event a load got accepted is committed: the shard streams hold nothing
 * undelivered or pending (cheap to poll) and the project has at least `target` rows (counted only
 * then, or once a second, so the polling costs PostgreSQL little CPU). Then checks that nothing
 * went to the dead-letter stream. Returns when the commit was seen (Date.now()) and the rows
 * counted. Throws after `maxMs` or when events were dead-lettered: a figure is only reported for
 * a run that stored everything it accepted.
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
  const deadline = Date.now() + (options.maxMs ?? 600_000);
  for (let poll = 0; ; poll++) {
    const backlog = await pipelineBacklog(options.redis, options.shards);
    if (backlog === 0 || poll % 10 === 0) {
      const rows = await projectRows(options.pool, options.projectId);
      if (rows >= options.target) {
        const finishedAt = Date.now();
        const dead = await options.redis.xlen(DLQ_STREAM);
        if (dead > 0) throw new Error(`${options.label}: ${dead} events in ${DLQ_STREAM}`);
        return { finishedAt, rows };
      }
      if (Date.now() > deadline) throw new Error(`${options.label}: only ${rows} of ${options.target} events committed in time`);
    }
    options.progress.update(`${options.label}: draining, backlog ${backlog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
