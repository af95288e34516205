// Where the CPU of the whole machine goes while the pipeline runs at full rate, sampled by the
// kernel (`perf record -a`) on every thread rather than by V8's profiler on the main thread.
// Usage: node bench/cpu-split.ts [seconds=10]   (needs `perf`: Debian package linux-perf, root)
//
// `node --cpu-prof` samples the main thread by wall time: a thread descheduled inside a system
// call shows up as that call (a socket write that woke PostgreSQL), and the garbage collector's
// helper threads do not show up at all. perf counts what each thread spent on a CPU, so this
// splits the API's and the worker's samples into their main thread's JavaScript, V8 builtins and
// runtime, garbage collection, C library and kernel, and their helper threads' garbage collection
// and compiling. PostgreSQL's samples are split by their call chains: the COPYs' index insertion
// and input parsing, the statement triggers, commits (postgresActivity).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { batchBodies } from './support/bench-data.ts';
import { startBenchStack } from './support/bench-stack.ts';
import { processTree } from './support/cpu-accounting.ts';
import { runLoad } from './support/http-load.ts';
import { leafOf, parsePerfScript, postgresActivity, type Sample } from './support/perf-samples.ts';

const seconds = Number(process.argv[2] ?? 10);
/** Load starts, then perf samples this long after it, so the startup is left out. */
const WARMUP_S = 3;

const GC_SYMBOL = /Scaveng|MarkCompact|Marking|Sweep|Evacuat|Heap::|GCTracer|RememberedSet|PointersUpdating|FreeList/;

/** What a sample of a Node process was doing. */
function nodeCategory(s: Sample): string {
  const { symbol, dso } = leafOf(s);
  if (s.thread.startsWith('V8Worker')) {
    if (/Compil|Turbo|Maglev|compiler/.test(symbol)) return 'helper threads: compiling';
    if (/Mark/.test(symbol)) return 'helper threads: garbage collection, marking';
    // Sweeping, scavenging, evacuating and the visitors they call: the rest of their work.
    return 'helper threads: garbage collection, the rest';
  }
  if (dso.includes('kernel')) return 'main thread: kernel';
  if (GC_SYMBOL.test(symbol)) return 'main thread: garbage collection';
  if (dso.includes('perf-') || dso.includes('JIT') || symbol.includes('JS:')) return 'main thread: JavaScript';
  if (dso.includes('libc')) return 'main thread: C library';
  return 'main thread: V8 builtins and runtime (JSON, strings, property access)';
}

const profileDir = mkdtempSync(join(tmpdir(), 'eap-cpu-split-'));
const perfData = join(profileDir, 'perf.data');
// Symbols for the JIT code: /tmp/perf-PID.map, written by each process.
const withPerfMap = (kind: 'api' | 'worker') => ({ NODE_OPTIONS: `${RECOMMENDED_NODE_OPTIONS[kind]} --perf-basic-prof` });

const stack = await startBenchStack();
try {
  const project = await stack.createProject('cpu-split');
  const api = await stack.spawnApi(withPerfMap('api'));
  const worker = await stack.spawnWorker(withPerfMap('worker'));
  const load = runLoad({
    url: api.url,
    path: '/v1/batch',
    connections: 8,
    durationS: WARMUP_S + seconds + 1,
    bodies: batchBodies(200, 100),
    headers: { authorization: `Bearer ${project.write_key}` },
  });
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  const roles = new Map<number, string>([
    [api.child.pid!, 'api'],
    [worker.child.pid!, 'worker'],
    [process.pid, 'load generator'],
    ...processTree(stack.postgresDir).map((pid) => [pid, 'postgres'] as const),
    ...processTree(stack.redisProcessMatch).map((pid) => [pid, 'redis'] as const),
  ]);
  const perf = spawn('perf', ['record', '-F', '999', '-a', '-g', '-o', perfData, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => perf.on('exit', r));
  if (code !== 0) throw new Error(`perf record exited with ${code} (is perf installed, and are we root?)`);
  const result = await load;
  // PostgreSQL starts a backend per connection: look again for those started during the load.
  for (const pid of processTree(stack.postgresDir)) if (!roles.has(pid)) roles.set(pid, 'postgres');
  const script = spawn('perf', ['script', '-i', perfData, '-F', 'comm,pid,tid,ip,sym,dso'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  script.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  await new Promise((r) => script.on('exit', r));
  await Promise.all([api.stop(), worker.stop()]);
  for (const pid of [api.child.pid, worker.child.pid]) rmSync(`/tmp/perf-${pid}.map`, { force: true });

  const samples = parsePerfScript(text);
  const byRole = new Map<string, number>();
  const byCategory = new Map<string, Map<string, number>>();
  for (const s of samples) {
    const role = roles.get(s.pid) ?? (s.thread === 'swapper' ? 'idle' : 'other');
    byRole.set(role, (byRole.get(role) ?? 0) + 1);
    if (role !== 'api' && role !== 'worker' && role !== 'postgres') continue;
    const categories = byCategory.get(role) ?? new Map<string, number>();
    const category = role === 'postgres' ? postgresActivity(s.frames) : nodeCategory(s);
    categories.set(category, (categories.get(category) ?? 0) + 1);
    byCategory.set(role, categories);
  }
  const percent = (n: number, of: number) => `${((100 * n) / of).toFixed(1)} %`;
  console.log(`${result.reqPerSec * 100} events/s accepted; ${samples.length} samples over ${seconds} s on all CPUs`);
  console.log('share of all samples:');
  for (const [role, n] of [...byRole].sort((a, b) => b[1] - a[1])) console.log(`  ${percent(n, samples.length).padStart(7)}  ${role}`);
  for (const [role, categories] of byCategory) {
    const total = byRole.get(role)!;
    console.log(`${role}, share of its own samples:`);
    for (const [category, n] of [...categories].sort((a, b) => b[1] - a[1])) console.log(`  ${percent(n, total).padStart(7)}  ${category}`);
  }
  console.log(`perf data: ${perfData} (perf report -i … --sort comm,sym)`);
} finally {
  await stack.stop();
}
