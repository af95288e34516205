// Profiles one EAP process under benchmark load with `node --cpu-prof` and prints where its CPU
// goes. Usage: node bench/profile.ts api|api-batch|worker|worker-batched [seconds=15]
//   api:       single-event ingest at 64 connections (no worker), the API profiled
//   api-batch: batches of 100 events at 8 connections (no worker), the API profiled
//   worker: a backlog of 200,000 events drained by one worker, the worker profiled
//   worker-batched: the same, appended as requests of 100 events (an entry per request and shard)
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { clientEvents, fillStreams } from './support/bench-data.ts';
import { startBenchStack } from './support/bench-stack.ts';
import { summarizeCpuProfile } from './support/cpuprofile-summary.ts';
import { runLoad } from './support/http-load.ts';
import { pipelineBacklog } from './support/stream-backlog.ts';

const target = process.argv[2];
const seconds = Number(process.argv[3] ?? 15);
if (target !== 'api' && target !== 'api-batch' && target !== 'worker' && target !== 'worker-batched')
  throw new Error('usage: node bench/profile.ts api|api-batch|worker|worker-batched [seconds]');
const profileDir = mkdtempSync(join(tmpdir(), 'eap-cpuprof-'));
// The shipped heap settings, so the garbage collector's share is the one a deployment sees.
const profiling = (kind: 'api' | 'worker') => ({
  NODE_OPTIONS: `${RECOMMENDED_NODE_OPTIONS[kind]} --cpu-prof --cpu-prof-dir=${profileDir}`,
});
// The TypeScript sources, not the bundle: the profile then names the package or source file of
// each function (the bundle is one file). Both run the same code.
const stack = await startBenchStack({ eap: 'sources' });
try {
  const project = await stack.createProject('profile');
  const redis = new Redis(stack.redisUrl);
  if (target === 'api' || target === 'api-batch') {
    const api = await stack.spawnApi(profiling('api'));
    const events = clientEvents(10_000);
    const batch = target === 'api-batch';
    const bodies = batch
      ? Array.from({ length: 100 }, (_, i) => JSON.stringify({ events: events.slice(i * 100, i * 100 + 100) }))
      : events.map((e) => JSON.stringify(e));
    const r = await runLoad({
      url: api.url,
      path: batch ? '/v1/batch' : '/v1/events',
      connections: batch ? 8 : 64,
      durationS: seconds,
      bodies,
      headers: { authorization: `Bearer ${project.write_key}` },
    });
    console.log(`api: ${r.reqPerSec} req/s, p99 ${r.latencyP99Ms} ms`);
    await api.stop();
  } else {
    await fillStreams(redis, 200_000, project.project_id, undefined, { perRequest: target === 'worker-batched' ? 100 : 1 });
    const worker = await stack.spawnWorker(profiling('worker'));
    const started = Date.now();
    while ((await pipelineBacklog(redis)) > 0 && Date.now() - started < seconds * 1000) await new Promise((r) => setTimeout(r, 200));
    const elapsed = (Date.now() - started) / 1000;
    const stored = new pg.Client({ connectionString: stack.databaseUrl });
    await stored.connect();
    const { rows } = await stored.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    await stored.end();
    console.log(`worker: ${Math.round(rows[0]!.n / elapsed)} events/s`);
    await worker.stop();
  }
  redis.disconnect();
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  console.log(`profile: ${join(profileDir, file)}`);
  console.log('by function (all samples):');
  for (const line of summarizeCpuProfile(join(profileDir, file))) console.log(line);
  console.log('by package or source file (busy samples):');
  for (const line of summarizeCpuProfile(join(profileDir, file), 16, 'place')) console.log(line);
} finally {
  await stack.stop();
}
