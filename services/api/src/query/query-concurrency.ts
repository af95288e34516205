import { EapError } from '@eap/core';

export interface QueryConcurrencyOptions {
  /** Queries one read key may have running at once in this process. */
  perKey: number;
  /** Queries this process runs at once, all keys together. */
  total: number;
  /** Called when a query is refused, with the limit it hit. */
  onRefused?: (limit: QueryLimitName) => void;
  /** Called with the number of running queries whenever it changes. */
  onRunning?: (running: number) => void;
}

export type QueryLimitName = 'per_key' | 'per_process';

/** Seconds a refused client is told to wait: a query slot frees when a running query ends. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Caps the queries running at once, per read key and per process. A query over either cap is
 * refused at once with 429 TOO_MANY_QUERIES (which cap, in the message and `details`) rather
 * than queued: a waiting request would hold its connection and memory while the client has
 * usually given up, and one dashboard in a loop must not take every query connection.
 */
export function createQueryConcurrency(options: QueryConcurrencyOptions) {
  const perKey = new Map<string, number>();
  let total = 0;

  function refuse(limit: QueryLimitName): never {
    options.onRefused?.(limit);
    const [setting, max, whose] =
      limit === 'per_key'
        ? ['QUERY_MAX_CONCURRENT_PER_KEY', options.perKey, 'this read key already has']
        : ['QUERY_MAX_CONCURRENT', options.total, 'this API process already runs'];
    throw new EapError('TOO_MANY_QUERIES', `${whose} ${max} queries running (${setting}); retry when one has finished`, {
      details: { limit, setting, max },
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }

  /** Takes a slot for `keyId` or throws TOO_MANY_QUERIES; returns the function that gives it back. */
  function acquire(keyId: string): () => void {
    const mine = perKey.get(keyId) ?? 0;
    if (mine >= options.perKey) refuse('per_key');
    if (total >= options.total) refuse('per_process');
    perKey.set(keyId, mine + 1);
    total += 1;
    options.onRunning?.(total);
    let released = false;
    return function release() {
      if (released) return;
      released = true;
      total -= 1;
      options.onRunning?.(total);
      const left = (perKey.get(keyId) ?? 1) - 1;
      if (left === 0) perKey.delete(keyId);
      else perKey.set(keyId, left);
    };
  }

  /** Runs `work` holding a slot of `keyId` until it settles. */
  async function run<T>(keyId: string, work: () => Promise<T>): Promise<T> {
    const release = acquire(keyId);
    try {
      return await work();
    } finally {
      release();
    }
  }

  return { acquire, run, running: () => total };
}
export type QueryConcurrency = ReturnType<typeof createQueryConcurrency>;
