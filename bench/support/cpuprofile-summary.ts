import { readFileSync } from 'node:fs';

/** A function's place in a V8 profile (CPU or heap). */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/**
 * How samples are grouped: `function`, each function (with file and line) over all samples;
 * `place`, each npm package or source file over the busy samples only (idle left out), which is
 * how benchmarks/profiles.md reports where a process's CPU goes.
 */
export type ProfileGrouping = 'function' | 'place';

/** `~/ioredis` for a file of a package (scoped ones keep their scope), else the file below the repository. */
function placeOf(file: string): string {
  const match = /^~\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  return match ? `~/${match[1]}` : file;
}

/** What a frame is counted under: its function, file and line, or its package or file. */
export function frameKey({ functionName, url, lineNumber }: CallFrame, by: ProfileGrouping): string {
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '~/')
    .replace(/^.*\/(packages|services)\//, '$1/');
  if (by === 'place') return url ? placeOf(file) : functionName || '(anonymous)';
  return `${functionName || '(anonymous)'}  ${file}${url ? `:${lineNumber + 1}` : ''}`;
}

/**
 * The self time in a V8 .cpuprofile (from `node --cpu-prof`) as "share  what" lines, most first:
 * where a process really spends its CPU. Native work without a file (`writeUtf8String`, the
 * garbage collector) is its own line in either grouping.
 */
export function summarizeCpuProfile(path: string, top = 25, by: ProfileGrouping = 'function'): string[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas?: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  // Each sample weighs the time since the one before it (a long garbage collection is one sample).
  for (const [i, id] of profile.samples.entries()) {
    const weight = profile.timeDeltas?.[i] ?? 1;
    const node = byId.get(id);
    if (!node) continue;
    if (by === 'place' && node.callFrame.functionName === '(idle)') continue;
    total += weight;
    const key = frameKey(node.callFrame, by);
    self.set(key, (self.get(key) ?? 0) + weight);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, n]) => `${((100 * n) / total).toFixed(1).padStart(5)} %  ${key}`);
}

if (import.meta.main) {
  const by = process.argv[4] === 'place' ? 'place' : 'function';
  for (const line of summarizeCpuProfile(process.argv[2]!, Number(process.argv[3] ?? 25), by)) console.log(line);
}
