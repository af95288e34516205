import { describe, expect, it } from 'vitest';
import { createOperatorMetrics } from './metrics.ts';
import { createWorkQueue } from './work-queue.ts';

describe('work queue', () => {
  it('queues a key once however often it is added', async () => {
    const queue = createWorkQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.length).toBe(0);
  });

  it('never hands out a key in progress, and runs it once more when added meanwhile', async () => {
    const queue = createWorkQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    expect(queue.length).toBe(0);
    queue.done(first ?? '');
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('a');
  });

  it('wakes a waiting consumer and ends waiters at shutdown', async () => {
    const queue = createWorkQueue();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
    const ended = queue.get();
    queue.shutDown();
    expect(await ended).toBeUndefined();
  });

  it('backs off failed keys exponentially and resets after forget', async () => {
    const queue = createWorkQueue({ baseDelayMs: 20, maxDelayMs: 1000 });
    const at = Date.now();
    queue.addRateLimited('k'); // 20 ms
    expect(await queue.get()).toBe('k');
    queue.done('k');
    const first = Date.now() - at;
    queue.addRateLimited('k'); // 40 ms
    const second = Date.now();
    expect(await queue.get()).toBe('k');
    queue.done('k');
    expect(first).toBeGreaterThanOrEqual(15);
    expect(Date.now() - second).toBeGreaterThanOrEqual(35);
    expect(queue.retries('k')).toBe(2);
    queue.forget('k');
    expect(queue.retries('k')).toBe(0);
    queue.shutDown();
  });

  it('reports workqueue_* series as Go controllers do: adds, depth, waits, work time, retries, work in progress', async () => {
    const metrics = createOperatorMetrics();
    const queue = createWorkQueue({ baseDelayMs: 1, observer: metrics.workQueue.observer });
    metrics.workQueue.track(queue);
    // A series' value as Prometheus scrapes it (for a histogram, pass its `_count`).
    const value = async (series: string) => {
      const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${series}{name="eventpipeline"} `));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };

    queue.add('a');
    queue.add('b');
    queue.add('a'); // already waiting: not an add
    expect(await value('workqueue_adds_total')).toBe(2);
    expect(await value('workqueue_depth')).toBe(2);

    const key = await queue.get();
    expect(await value('workqueue_depth')).toBe(1);
    expect(await value('workqueue_queue_duration_seconds_count')).toBe(1);
    queue.add('a'); // in progress: runs once more after, counted as an add
    expect(await value('workqueue_adds_total')).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await value('workqueue_longest_running_processor_seconds')).toBeGreaterThan(0);
    expect(await value('workqueue_unfinished_work_seconds')).toBeGreaterThan(0);

    queue.done(key ?? '');
    expect(await value('workqueue_work_duration_seconds_count')).toBe(1);
    expect(await value('workqueue_unfinished_work_seconds')).toBe(0);
    expect(queue.length).toBe(2);

    queue.addRateLimited('c');
    expect(await value('workqueue_retries_total')).toBe(1);
    queue.shutDown();
  });
});
