/** One timed HTTP request: its latency, or that it got no answer within the timeout. */
export interface Sample {
  ms: number;
  status: number | null;
}

/** Sends one request and times it; a request unanswered within `timeoutMs` has status null. */
export async function timedRequest(url: string, init: RequestInit, timeoutMs: number): Promise<Sample> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { ms: performance.now() - t0, status: res.status };
  } catch {
    return { ms: performance.now() - t0, status: null };
  }
}

/** p-th percentile (0–100) of sorted values, nearest rank. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/**
 * Latency percentiles over every request sent: one that got no answer within the timeout ranks
 * as the slowest and, when a percentile falls on it, is reported as "no answer".
 */
export function summarize(samples: Sample[]) {
  const answered = samples.filter((s) => s.status !== null);
  const sorted = [...answered.map((s) => s.ms).sort((a, b) => a - b), ...samples.filter((s) => s.status === null).map(() => Infinity)];
  const show = (v: number | null) => (v === null ? null : v === Infinity ? 'no answer' : Math.round(v * 10) / 10);
  return {
    sent: samples.length,
    answered: answered.length,
    ok: answered.filter((s) => s.status !== null && s.status < 300).length,
    p50_ms: show(percentile(sorted, 50)),
    p99_ms: show(percentile(sorted, 99)),
    max_answered_ms: show(answered.length === 0 ? null : Math.max(...answered.map((s) => s.ms))),
  };
}
export type LatencySummary = ReturnType<typeof summarize>;

/**
 * Alternates `/livez` and one single-event ingest request, one at a time, `requests` of each, a
 * pair every `intervalMs` (so the probe spans several queries rather than a few milliseconds),
 * stopping early at `deadline` (ms, performance.now()): a process that does not answer costs at
 * most the per-request timeout per request, and the whole probe at most until the deadline.
 */
export async function probeLivezAndIngest(options: {
  livezUrl: string;
  ingestUrl: string;
  writeKey: string;
  requests: number;
  intervalMs: number;
  timeoutMs: number;
  deadline: number;
}) {
  const livez: Sample[] = [];
  const ingest: Sample[] = [];
  const body = JSON.stringify({ event: 'bench_ingest', distinct_id: 'bench-user', properties: { probe: true } });
  const headers = { authorization: `Bearer ${options.writeKey}`, 'content-type': 'application/json' };
  const start = performance.now();
  for (let i = 0; i < options.requests && performance.now() < options.deadline; i++) {
    const wait = start + i * options.intervalMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    livez.push(await timedRequest(options.livezUrl, {}, options.timeoutMs));
    if (performance.now() >= options.deadline) break;
    ingest.push(await timedRequest(options.ingestUrl, { method: 'POST', headers, body }, options.timeoutMs));
  }
  return { livez: summarize(livez), ingest: summarize(ingest), ms: Math.round(performance.now() - start) };
}

/**
 * Sends the same query again and again, one at a time, until `stop()`: a query is running during
 * the whole probe. `stop(graceMs)` lets the query in flight finish for up to `graceMs`, then
 * aborts it, and resolves with what was answered.
 */
export function startQueryLoop(url: string, readKey: string, body: unknown) {
  const controller = new AbortController();
  const answers: Sample[] = [];
  let sent = 0;
  let stopping = false;
  let firstSent: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    firstSent = resolve;
  });
  const loop = (async () => {
    const init = {
      method: 'POST',
      headers: { authorization: `Bearer ${readKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
    while (!stopping) {
      const t0 = performance.now();
      sent += 1;
      firstSent();
      try {
        const res = await fetch(url, { ...init, signal: controller.signal });
        await res.arrayBuffer();
        answers.push({ ms: performance.now() - t0, status: res.status });
      } catch {
        break;
      }
    }
  })();
  return {
    started,
    async stop(graceMs: number) {
      stopping = true;
      const timer = setTimeout(() => controller.abort(), graceMs);
      await loop;
      clearTimeout(timer);
      return {
        sent,
        answered: answers.length,
        statuses: [...new Set(answers.map((a) => a.status))],
        latency: summarize(answers),
      };
    },
  };
}
