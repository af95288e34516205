import { Redis } from 'ioredis';
import { fillStreams } from '../support/bench-data.ts';
import type { BenchStack } from '../support/bench-stack.ts';
import { createPeakSampler, rssMiB } from '../support/process-sampler.ts';
import type { Progress } from '../support/progress.ts';
import { pipelineBacklog } from '../support/stream-backlog.ts';

/**
 * Worker memory with a large backlog: the streams are filled with `entries` events while no
 * worker runs, then one worker starts and drains them. Its RSS must stay flat (it holds one batch
 * at a time, whatever the backlog); the drain rate is the worker alone, without the API. With
 * `largest`, every event carries ~30 KB of properties (the largest the API accepts).
 */
export async function backlogPhase(
  stack: BenchStack,
  options: { entries: number; maxDrainS: number; projectId: string; progress: Progress; largest?: boolean },
) {
  const redis = new Redis(stack.redisUrl);
  try {
    await fillStreams(
      redis,
      options.entries,
      options.projectId,
      (done) => options.progress.update(`worker with a backlog: filling the streams, ${done} of ${options.entries}`),
      { largest: options.largest ?? false },
    );
    // Measured before the worker starts: it reads as soon as it is up, before it reports ready.
    const initial = await pipelineBacklog(redis);
    const worker = await stack.spawnWorker();
    const rss = createPeakSampler(() => rssMiB(worker.child.pid));
    const started = Date.now();
    let left = await pipelineBacklog(redis);
    while (left > 0 && Date.now() - started < options.maxDrainS * 1000) {
      await new Promise((r) => setTimeout(r, 500));
      left = await pipelineBacklog(redis);
      options.progress.update(`worker with a backlog: ${left} left, RSS ${Math.round(rss.last())} MiB`);
    }
    const seconds = (Date.now() - started) / 1000;
    const peak = rss.stop();
    await worker.stop();
    const result = {
      backlog_entries: initial,
      drained: initial - left,
      drain_seconds: Math.round(seconds * 10) / 10,
      drain_events_per_s: Math.round((initial - left) / seconds),
      worker_rss_peak_mib: Math.round(peak),
    };
    options.progress.done(
      `worker with a ${initial}-event backlog${options.largest ? ' of 30 KB events' : ''}: RSS peak ${result.worker_rss_peak_mib} MiB, drains ${result.drain_events_per_s} events/s`,
    );
    return result;
  } finally {
    redis.disconnect();
  }
}
