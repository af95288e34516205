import type { LoadResult } from './http-load.ts';
import { summarize, timedRequest } from './latency-probe.ts';

export interface PacedLoadOptions {
  url: string;
  path: string;
  /** Requests per second, spread evenly over each second. */
  ratePerS: number;
  durationS: number;
  /** Request bodies, used in turn (one per request). */
  bodies: string[];
  headers?: Record<string, string>;
  /** A request unanswered for this long counts as an error (ms). */
  timeoutMs?: number;
  onTick?: (completedRequests: number) => void;
}

/** How many requests are due `elapsedMs` after the start at `ratePerS`, evenly spaced. */
export function requestsDue(elapsedMs: number, ratePerS: number): number {
  return Math.floor((elapsedMs * ratePerS) / 1000);
}

/**
 * Sends requests at an even pace, as steady traffic arrives: one every 1/`ratePerS` seconds
 * (checked every millisecond), each on its own without waiting for the ones before, for
 * `durationS`. autocannon's rate instead sends each second's requests as fast as it can at the
 * start of the second and then waits, so a pipeline driven by it at half its capacity sees a burst
 * every second, and its latency is the time to work off that burst. A request's latency is counted
 * from the moment it was due, so a late send counts against it. For rates of a few hundred
 * requests per second (each request costs this process a `fetch`).
 */
export async function runPacedLoad(options: PacedLoadOptions): Promise<LoadResult> {
  const init = (i: number): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.bodies[i % options.bodies.length]!,
  });
  const url = `${options.url}${options.path}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const samples: { ms: number; status: number | null }[] = [];
  const pending = new Set<Promise<void>>();
  const ticker = setInterval(() => options.onTick?.(samples.length), 1000);
  const started = performance.now();
  let sent = 0;
  try {
    for (;;) {
      const elapsed = performance.now() - started;
      if (elapsed >= options.durationS * 1000) break;
      for (const due = requestsDue(elapsed, options.ratePerS); sent < due; sent++) {
        const dueAt = started + (sent * 1000) / options.ratePerS;
        const request = timedRequest(url, init(sent), timeoutMs).then((sample) => {
          samples.push({ ms: performance.now() - dueAt, status: sample.status });
        });
        pending.add(request);
        void request.finally(() => pending.delete(request));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
  } finally {
    clearInterval(ticker);
  }
  const summary = summarize(samples);
  const asMs = (v: number | string | null) => (typeof v === 'number' ? v : Number.NaN);
  // As autocannon counts: `requests` are those answered, `errors` those that were not.
  const answered = samples.filter((s) => s.status !== null).length;
  return {
    requests: answered,
    reqPerSec: Math.round(answered / options.durationS),
    latencyP50Ms: asMs(summary.p50_ms),
    latencyP99Ms: asMs(summary.p99_ms),
    non2xx: samples.filter((s) => s.status !== null && (s.status < 200 || s.status >= 300)).length,
    errors: samples.filter((s) => s.status === null).length,
  };
}
