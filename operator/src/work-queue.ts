/**
 * A work queue of keys like client-go's: a key is queued at most once, is never processed by two
 * workers at once (added again while in progress, it runs once more after), failed keys come back
 * after a per-key exponential backoff, and `addAfter` schedules a later visit.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  /** Schedules `key` after its next backoff delay (doubling per consecutive failure). */
  addRateLimited(key: string): void;
  /** Resets `key`'s backoff after a success. */
  forget(key: string): void;
  /** Consecutive failures of `key` since it was last forgotten. */
  retries(key: string): number;
  /** Next key to process; undefined once the queue is shut down. */
  get(): Promise<string | undefined>;
  /** Marks `key` processed; re-queues it if it was added meanwhile. */
  done(key: string): void;
  /** Keys waiting (not those in progress or scheduled later). */
  readonly length: number;
  /** Seconds the keys in progress have been running, summed (stuck workers show as growth). */
  unfinishedWorkSeconds(): number;
  /** Seconds the longest-running key in progress has been running; 0 when none is. */
  longestRunningSeconds(): number;
  shutDown(): void;
}

/**
 * What a queue reports as it works, in the terms of client-go's workqueue metrics (adds, depth,
 * time waiting, time processing, retries); createWorkQueueMetrics in metrics.ts turns these into
 * Prometheus series.
 */
export interface WorkQueueObserver {
  /** A key was added that was not already waiting; `depth` is the number now waiting. */
  added(depth: number): void;
  /** A worker took a key that had waited `waitedSeconds`; `depth` is the number still waiting. */
  started(waitedSeconds: number, depth: number): void;
  /** A worker finished a key after `seconds`. */
  finished(seconds: number): void;
  /** A failed key was scheduled again after its backoff. */
  retried(): void;
}

export function createWorkQueue(options: { baseDelayMs?: number; maxDelayMs?: number; observer?: WorkQueueObserver } = {}): WorkQueue {
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 300_000;
  const observer = options.observer;
  const queue: string[] = [];
  /** Waiting keys and when they were queued. */
  const queued = new Map<string, number>();
  /** Keys in progress and when a worker took them. */
  const processing = new Map<string, number>();
  const dirty = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  const waiters: Array<(key: string | undefined) => void> = [];
  let shuttingDown = false;

  const seconds = (since: number, now = performance.now()) => (now - since) / 1000;

  /** Hands `key` to a waiting worker, or queues it (it is neither waiting nor in progress). */
  function enqueue(key: string, queuedAt: number): void {
    const waiter = waiters.shift();
    if (waiter) {
      const now = performance.now();
      processing.set(key, now);
      observer?.started(seconds(queuedAt, now), queue.length);
      waiter(key);
      return;
    }
    queued.set(key, queuedAt);
    queue.push(key);
  }

  function add(key: string): void {
    if (shuttingDown || queued.has(key) || dirty.has(key)) return;
    if (processing.has(key)) {
      dirty.add(key);
      observer?.added(queue.length);
      return;
    }
    enqueue(key, performance.now());
    observer?.added(queue.length);
  }

  function addAfter(key: string, delayMs: number): void {
    if (shuttingDown) return;
    if (delayMs <= 0) {
      add(key);
      return;
    }
    const existing = timers.get(key);
    if (existing) clearTimeout(existing);
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        add(key);
      }, delayMs),
    );
  }

  return {
    add,
    addAfter,
    addRateLimited(key) {
      const count = failures.get(key) ?? 0;
      failures.set(key, count + 1);
      observer?.retried();
      addAfter(key, Math.min(maxDelayMs, baseDelayMs * 2 ** count));
    },
    forget(key) {
      failures.delete(key);
    },
    retries(key) {
      return failures.get(key) ?? 0;
    },
    get() {
      if (shuttingDown) return Promise.resolve(undefined);
      const key = queue.shift();
      if (key !== undefined) {
        const now = performance.now();
        const queuedAt = queued.get(key) ?? now;
        queued.delete(key);
        processing.set(key, now);
        observer?.started(seconds(queuedAt, now), queue.length);
        return Promise.resolve(key);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    done(key) {
      const startedAt = processing.get(key);
      if (startedAt === undefined) return;
      processing.delete(key);
      observer?.finished(seconds(startedAt));
      // Added while in progress: it runs once more, counted as waiting from now.
      if (dirty.delete(key) && !shuttingDown) enqueue(key, performance.now());
    },
    get length() {
      return queue.length;
    },
    unfinishedWorkSeconds() {
      const now = performance.now();
      let total = 0;
      for (const startedAt of processing.values()) total += seconds(startedAt, now);
      return total;
    },
    longestRunningSeconds() {
      const now = performance.now();
      let longest = 0;
      for (const startedAt of processing.values()) longest = Math.max(longest, seconds(startedAt, now));
      return longest;
    },
    shutDown() {
      shuttingDown = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const waiter of waiters.splice(0)) waiter(undefined);
    },
  };
}
