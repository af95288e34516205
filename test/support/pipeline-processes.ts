import type { ChildProcess } from 'node:child_process';
import { exited, freePort, spawnEap } from '@eap/local-services';
import { waitFor } from './test-api.ts';

/** A spawned `eap api` or `eap worker` process. */
export interface EapProcess {
  child: ChildProcess & { output: () => string };
  adminUrl: string;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

async function spawnService(
  command: 'api' | 'worker',
  env: Record<string, string>,
  extra: () => Promise<Record<string, string>>,
): Promise<EapProcess> {
  // A port found free can be taken by another process before ours binds it: try again then.
  for (let attempt = 1; ; attempt++) {
    const adminPort = await freePort();
    const ports = await extra();
    const child = spawnEap([command], { HOST: '127.0.0.1', ADMIN_PORT: String(adminPort), LOG_LEVEL: 'warn', ...ports, ...env });
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`eap ${command} exited early:\n${child.output()}`);
          return (await fetch(`${adminUrl}/livez`).catch(() => null))?.status === 200;
        },
        30_000,
        `eap ${command} serving`,
      );
    } catch (error) {
      if (attempt < 3 && child.output().includes('EADDRINUSE')) continue;
      child.kill('SIGKILL');
      throw error;
    }
    return {
      child,
      adminUrl,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        return (await exited(child)).code;
      },
      async kill() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await exited(child);
      },
    };
  }
}

/** Spawns `eap api` on free ports; `url` is its public address. */
export async function spawnApi(env: Record<string, string>): Promise<EapProcess & { url: string }> {
  let port = 0;
  const api = await spawnService('api', env, async () => {
    port = await freePort();
    return { PORT: String(port), BACKLOG_POLL_MS: '100' };
  });
  return { ...api, url: `http://127.0.0.1:${port}` };
}

/** Spawns `eap worker` with test-friendly intervals. */
export async function spawnWorker(env: Record<string, string>): Promise<EapProcess> {
  return spawnService('worker', env, async () => ({
    WORKER_BLOCK_MS: '50',
    CLAIM_INTERVAL_MS: '250',
    CLAIM_IDLE_MS: '1000',
    TRIM_INTERVAL_MS: '500',
    RETRY_BASE_MS: '50',
    RETRY_MAX_MS: '500',
  }));
}

/** Reads one counter or gauge (summed over labels) from a /metrics endpoint. */
export async function readMetric(adminUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface LoadResult {
  accepted: number;
  /** Status codes seen, with counts (a 503 while Redis is down is expected; a 500 never is). */
  statuses: Map<number, number>;
  /** Requests that failed at the connection level (the API process itself unreachable). */
  networkErrors: number;
  /** Events a 202 listed as `retriable` (valid, not stored) and that were sent again. */
  retriedEvents: number;
}

/**
 * Posts `total` events in batches to the API and counts what it accepted. Refused batches (429,
 * 503, connection errors) and events a 202 marks `retriable` are sent again after a pause, like a
 * well-behaved SDK; every event ends up accepted or the deadline passes.
 */
export async function sendLoad(options: {
  url: string;
  key: string;
  total: number;
  batchSize: number;
  concurrency: number;
  deadlineMs?: number;
  makeEvent?: (i: number) => Record<string, unknown>;
  /** Stops the load (it then rejects), e.g. when the test fails before it completes. */
  signal?: AbortSignal;
}): Promise<LoadResult> {
  const result: LoadResult = { accepted: 0, statuses: new Map(), networkErrors: 0, retriedEvents: 0 };
  // Like an SDK, events carry the time they happened, so a retry keeps the same primary key.
  const stamp = new Date().toISOString();
  const makeEvent =
    options.makeEvent ??
    ((i: number) => ({ event: i % 3 ? 'page_view' : 'signup', distinct_id: `user-${i % 997}`, timestamp: stamp, properties: { i } }));
  const deadline = Date.now() + (options.deadlineMs ?? 200_000);
  let next = 0;
  async function lane(): Promise<void> {
    for (;;) {
      const start = next;
      if (start >= options.total) return;
      next += options.batchSize;
      let events = Array.from({ length: Math.min(options.batchSize, options.total - start) }, (_, j) => makeEvent(start + j));
      for (;;) {
        if (Date.now() > deadline) throw new Error('load did not complete before its deadline');
        if (options.signal?.aborted) throw new Error('load aborted');
        let status: number;
        type Rejection = { index: number; event_id?: string; retriable: boolean };
        let json: { accepted?: number; rejected?: Rejection[]; error?: { details?: { rejected?: Rejection[] } } } = {};
        try {
          const res = await fetch(`${options.url}/v1/batch`, {
            method: 'POST',
            headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          status = res.status;
          json = (await res.json()) as typeof json;
        } catch {
          result.networkErrors++;
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
        if (status === 202) {
          result.accepted += json.accepted ?? 0;
          // Events that were valid but could not be stored (Redis failed mid-request) are sent again
          // with the event_id the API gave them: if an append did happen but its reply was lost,
          // the copy is deduplicated rather than stored twice.
          const retry = (json.rejected ?? []).filter((r) => r.retriable).map((r) => ({ ...events[r.index]!, event_id: r.event_id }));
          result.retriedEvents += retry.length;
          if (retry.length === 0) break;
          events = retry;
        } else if (json.error?.details?.rejected) {
          // A 503 during the request: keep the ids the API gave, in case some appends happened.
          events = json.error.details.rejected.filter((r) => r.retriable).map((r) => ({ ...events[r.index]!, event_id: r.event_id }));
          if (events.length === 0) break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  return result;
}
