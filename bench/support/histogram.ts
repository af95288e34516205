/** Cumulative bucket counts of one Prometheus histogram: upper bound → count. */
export type Buckets = Map<number, number>;

/** Reads the `_bucket` lines of histogram `name` from Prometheus text output. */
export function parseHistogram(text: string, name: string): Buckets {
  const buckets: Buckets = new Map();
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/** Bucket counts observed between two readings. */
export function diffHistogram(after: Buckets, before: Buckets): Buckets {
  const out: Buckets = new Map();
  for (const [le, count] of after) out.set(le, count - (before.get(le) ?? 0));
  return out;
}

/**
 * The q-quantile of a histogram, interpolated linearly inside its bucket the way Prometheus'
 * histogram_quantile does (so it is as precise as the bucket layout, no more).
 */
export function histogramQuantile(buckets: Buckets, q: number): number | null {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return prevBound;
      const inBucket = count - prevCount;
      return inBucket === 0 ? bound : prevBound + ((bound - prevBound) * (rank - prevCount)) / inBucket;
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}
