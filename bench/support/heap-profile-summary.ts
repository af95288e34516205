import { readFileSync } from 'node:fs';
import { type CallFrame, frameKey } from './cpuprofile-summary.ts';

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/**
 * The bytes a V8 sampling heap profile (bench/support/heap-sampling.ts) saw allocated, by the
 * function that allocated them, as "bytes per unit  share  function" lines, most first. Builtins
 * inlined into a function (JSON.parse, a template's string additions) count as that function.
 */
export function summarizeHeapProfile(path: string, units: number, unit: string, top = 20): string[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { head: HeapNode };
  const self = new Map<string, number>();
  let total = 0;
  const visit = (node: HeapNode) => {
    total += node.selfSize;
    const key = frameKey(node.callFrame, 'function');
    self.set(key, (self.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const lines = [`${Math.round(total / units)} bytes allocated per ${unit} (${(total / 2 ** 20).toFixed(0)} MiB in all)`];
  for (const [key, bytes] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`${String(Math.round(bytes / units)).padStart(6)}  ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${key}`);
  return lines;
}
