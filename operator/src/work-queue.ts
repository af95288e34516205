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
  shutDown(): void;
}

export function createWorkQueue(options: { baseDelayMs?: number; maxDelayMs?: number } = {}): WorkQueue {
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 300_000;
  const queue: string[] = [];
  const queued = new Set<string>();
  const processing = new Set<string>();
  const dirty = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  const waiters: Array<(key: string | undefined) => void> = [];
  let shuttingDown = false;

  function add(key: string): void {
    if (shuttingDown) return;
    if (processing.has(key)) {
      dirty.add(key);
      return;
    }
    if (queued.has(key)) return;
    const waiter = waiters.shift();
    if (waiter) {
      processing.add(key);
      waiter(key);
      return;
    }
    queued.add(key);
    queue.push(key);
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
        queued.delete(key);
        processing.add(key);
        return Promise.resolve(key);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    done(key) {
      processing.delete(key);
      if (dirty.delete(key)) add(key);
    },
    get length() {
      return queue.length;
    },
    shutDown() {
      shuttingDown = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const waiter of waiters.splice(0)) waiter(undefined);
    },
  };
}
