import { createFunnelModel, type ClientEvent, type FunnelModel } from './funnel-model.ts';

export interface SeedProject {
  project_id: string;
  write_key: string;
}

export interface SeederOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8000. */
  url: string;
  projects: SeedProject[];
  /** Simulated users per project. */
  usersPerProject: number;
  /** Events per second over all projects. */
  rate: number;
  /** Events per request. */
  batchSize: number;
  /** Stop after this many events (default: run until stop()). */
  maxEvents?: number;
  onProgress?: (stats: SeederStats) => void;
  progressEveryMs?: number;
}

export interface SeederStats {
  sent: number;
  accepted: number;
  rejected: number;
  refusedRequests: number;
  failedRequests: number;
  elapsedMs: number;
}

const TICK_MS = 100;
/** Events held back while the API refuses (429/503) before the seeder slows down. */
const MAX_BUFFER = 50_000;

/**
 * Sends simulated funnel traffic to a running API at a steady rate, spread over several
 * projects. Refused requests (429, 503, network errors) are retried after a pause; the seeder
 * never drops events it generated, it slows down instead. `stop()` flushes and resolves.
 */
export function createSeeder(options: SeederOptions) {
  const models: { project: SeedProject; model: FunnelModel; buffer: ClientEvent[] }[] = options.projects.map((project, i) => ({
    project,
    model: createFunnelModel({ users: options.usersPerProject, seed: i + 1, userPrefix: `user-p${i}` }),
    buffer: [],
  }));
  const stats: SeederStats = { sent: 0, accepted: 0, rejected: 0, refusedRequests: 0, failedRequests: 0, elapsedMs: 0 };
  let stopping = false;
  let done: Promise<SeederStats> | undefined;

  async function post(project: SeedProject, events: ClientEvent[]): Promise<boolean> {
    try {
      const res = await fetch(`${options.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${project.write_key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sent_at: new Date().toISOString(), events }),
      });
      const body = (await res.json()) as { accepted?: number; rejected?: unknown[] };
      if (res.status === 202) {
        stats.sent += events.length;
        stats.accepted += body.accepted ?? 0;
        stats.rejected += body.rejected?.length ?? 0;
        return true;
      }
      stats.refusedRequests++;
      return false;
    } catch {
      stats.failedRequests++;
      return false;
    }
  }

  async function run(): Promise<SeederStats> {
    const started = Date.now();
    let lastProgress = started;
    let owed = 0;
    while (!stopping) {
      const tickStart = Date.now();
      owed += (options.rate * TICK_MS) / 1000;
      const budget = Math.floor(owed);
      owed -= budget;
      for (let i = 0; i < budget; i++) {
        if (options.maxEvents !== undefined && stats.sent + models.reduce((n, m) => n + m.buffer.length, 0) >= options.maxEvents) break;
        const m = models[i % models.length]!;
        if (m.buffer.length < MAX_BUFFER) m.buffer.push(...m.model.next(1));
      }
      for (const m of models) {
        while (m.buffer.length >= options.batchSize || (m.buffer.length > 0 && budget === 0)) {
          const batch = m.buffer.slice(0, options.batchSize);
          if (!(await post(m.project, batch))) break;
          m.buffer.splice(0, batch.length);
        }
      }
      stats.elapsedMs = Date.now() - started;
      if (options.onProgress && Date.now() - lastProgress >= (options.progressEveryMs ?? 5000)) {
        lastProgress = Date.now();
        options.onProgress({ ...stats });
      }
      if (options.maxEvents !== undefined && stats.sent >= options.maxEvents) break;
      await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (Date.now() - tickStart))));
    }
    // Flush what was generated; give up on a project only when the API keeps refusing.
    for (const m of models) {
      for (let attempts = 0; m.buffer.length > 0 && attempts < 20; attempts++) {
        const batch = m.buffer.slice(0, options.batchSize);
        if (await post(m.project, batch)) m.buffer.splice(0, batch.length);
        else await new Promise((r) => setTimeout(r, 250));
      }
    }
    stats.elapsedMs = Date.now() - started;
    return { ...stats };
  }

  return {
    start(): Promise<SeederStats> {
      done ??= run();
      return done;
    },
    async stop(): Promise<SeederStats> {
      stopping = true;
      return done ?? { ...stats };
    },
  };
}
