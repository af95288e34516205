import { Redis } from 'ioredis';
import pg from 'pg';
import { batchBodies } from '../support/bench-data.ts';
import { type BenchProcess, type BenchStack, spawnAll } from '../support/bench-stack.ts';
import { cpuPer, cpuSnapshot, machineBusySeconds, processTree } from '../support/cpu-accounting.ts';
import { runLoad } from '../support/http-load.ts';
import { waitForCommitted } from '../support/pipeline-drain.ts';
import type { Progress } from '../support/progress.ts';

const BATCH = 100;
/** Connections over all APIs, as in the single-process end-to-end phase. */
const CONNECTIONS = 8;

/** One configuration: how many API processes, workers and shard streams. */
export interface ScaleOutConfig {
  apis: number;
  workers: number;
  shards: number;
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * One configuration of the scale-out phase, from empty streams: `apis` × `eap api` and
 * `workers` × `eap worker` sharing STREAM_SHARDS, the load split evenly over the APIs (batches of
 * 100 at full speed), events of a project of its own counted in PostgreSQL. The rate is events
 * committed divided by the time from the first request to the last commit; the CPU of each
 * process kind over that same window gives its cost per 1,000 events and its busy share of a core
 * (CPU seconds ÷ wall seconds; 1.0 is one core saturated, summed over the processes of a kind).
 */
async function runConfig(stack: BenchStack, config: ScaleOutConfig, options: { durationS: number; progress: Progress }) {
  const label = `scale-out ${config.apis} api / ${config.workers} workers / ${config.shards} shards`;
  const redis = new Redis(stack.redisUrl);
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
  const spawned: BenchProcess[] = [];
  try {
    // Empty streams, consumer group and per-project backlog counts: no process is running yet.
    await redis.flushall();
    const project = await stack.createProject(`scale-out-${config.apis}-${config.workers}-${config.shards}`);
    const shards = { STREAM_SHARDS: String(config.shards) };
    const processes = await spawnAll(
      [
        ...Array.from({ length: config.apis }, () => () => stack.spawnApi(shards)),
        // Workers of one group need distinct consumer names.
        ...Array.from(
          { length: config.workers },
          (_, i) => () => stack.spawnWorker({ ...shards, CONSUMER_NAME: `bench-scale-out-${i + 1}` }),
        ),
      ],
      spawned,
    );
    const apis = processes.slice(0, config.apis);
    const workers = processes.slice(config.apis);
    const components = {
      api: () => apis.map((a) => a.child.pid ?? 0),
      worker: () => workers.map((w) => w.child.pid ?? 0),
      redis: () => processTree(stack.redisProcessMatch),
      postgres: () => processTree(stack.postgresDir),
      load_generator: () => [process.pid],
    };
    const bodies = batchBodies(200, BATCH);
    const headers = { authorization: `Bearer ${project.write_key}` };
    const sent = new Array<number>(apis.length).fill(0);
    const cpu0 = cpuSnapshot(components);
    const machine0 = machineBusySeconds();
    const started = Date.now();
    const loads = await Promise.all(
      apis.map((api, i) =>
        runLoad({
          url: api.url,
          path: '/v1/batch',
          connections: Math.max(1, Math.round(CONNECTIONS / apis.length)),
          durationS: options.durationS,
          bodies,
          headers,
          onTick: (n) => {
            sent[i] = n;
            options.progress.update(`${label}: ${sent.reduce((a, b) => a + b, 0) * BATCH} events sent`);
          },
        }),
      ),
    );
    const accepted = loads.reduce((sum, l) => sum + (l.requests - l.non2xx) * BATCH, 0);
    const { finishedAt, rows } = await waitForCommitted({
      pool,
      redis,
      shards: config.shards,
      projectId: project.project_id,
      target: accepted,
      progress: options.progress,
      label,
    });
    const cpu1 = cpuSnapshot(components);
    const machine1 = machineBusySeconds();
    const wallS = (finishedAt - started) / 1000;
    const busy: Record<string, number> = {};
    for (const name of Object.keys(cpu1)) busy[name] = round(((cpu1[name] ?? 0) - (cpu0[name] ?? 0)) / wallS);
    busy.total = round(Object.values(busy).reduce((a, b) => a + b, 0));
    // Everything the machine ran, other people's work included: far above `total` means a noisy run.
    busy.machine = round((machine1 - machine0) / wallS);
    const result = {
      ...config,
      connections: CONNECTIONS,
      duration_s: options.durationS,
      events_accepted: accepted,
      events_committed: rows,
      events_per_s: Math.round(rows / wallS),
      non_2xx: loads.reduce((sum, l) => sum + l.non2xx, 0),
      http_p99_ms: Math.max(...loads.map((l) => l.latencyP99Ms)),
      /** CPU milliseconds of each process kind (all its processes together) per 1,000 events committed. */
      cpu_ms_per_1000_events: cpuPer(cpu0, cpu1, rows),
      /** CPU seconds per wall second of each process kind, first request to last commit: 1.0 = one core busy. */
      busy_cores: busy,
    };
    options.progress.done(
      `${label}: ${result.events_per_s} events/s committed (${rows} events); busy cores ${Object.entries(busy)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    return result;
  } finally {
    await Promise.all(spawned.map((p) => p.stop()));
    redis.disconnect();
    await pool.end();
  }
}

/**
 * End to end with several API processes and workers on this machine, at each shard count in
 * turn: where the limit moves when processes are added (which kind saturates a core, or whether
 * the work serializes in Redis or PostgreSQL). See benchmarks/README.md.
 */
export async function scaleOutPhase(stack: BenchStack, options: { configs: ScaleOutConfig[]; durationS: number; progress: Progress }) {
  const results = [];
  for (const config of options.configs) results.push(await runConfig(stack, config, options));
  return results;
}
