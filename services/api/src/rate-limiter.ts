/**
 * Per-key token buckets held in process: each key may send `ratePerSecond` requests per second
 * sustained and bursts up to `burst`. With several API replicas the effective limit is per
 * replica; the limit protects the pipeline, it is not a billing meter.
 */
export function createRateLimiter(options: { ratePerSecond: number; burst: number; now?: () => number }) {
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, { tokens: number; updatedAt: number }>();

  /** Takes one token for `key`; returns 0 when allowed, else the seconds until a token is free. */
  function take(key: string): number {
    if (options.ratePerSecond <= 0) return 0;
    const t = now();
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { tokens: options.burst, updatedAt: t };
      buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(options.burst, bucket.tokens + ((t - bucket.updatedAt) / 1000) * options.ratePerSecond);
    bucket.updatedAt = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / options.ratePerSecond));
  }

  return { take };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
