import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used so far, or 0 when it is gone. With
 * `exitedChildren`, also those of its children that have exited and been waited for: Redis forks
 * one to rewrite its append-only file, PostgreSQL one per connection, and they can exit between
 * two readings.
 */
export function processCpuSeconds(pid: number, exitedChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state (field 3):
    // utime, stime, cutime, cstime are fields 14-17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return (exitedChildren ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** Processes whose command line contains `text`, plus their children (PostgreSQL backends). */
export function processTree(text: string): number[] {
  const pids = allPids();
  const roots = pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
  const rootSet = new Set(roots);
  // A child may match too (Redis titles its rewrite child `redis-aof-rewrite <address>`): once each.
  return [...roots, ...pids.filter((pid) => !rootSet.has(pid) && rootSet.has(parentOf(pid)))];
}

/**
 * CPU seconds per component, read now, with the children each process has waited for. But the
 * benchmark's own process (the load generator): its children are the processes under test,
 * counted in their own components.
 */
export function cpuSnapshot(components: Record<string, () => number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(components))
    out[name] = pids().reduce((sum, pid) => sum + processCpuSeconds(pid, pid !== process.pid), 0);
  return out;
}

/** Adds what each component spent between two snapshots to `total` (CPU seconds of windows apart). */
export function addCpuBetween(total: Record<string, number>, before: Record<string, number>, after: Record<string, number>): void {
  for (const name of Object.keys(after)) total[name] = (total[name] ?? 0) + after[name]! - (before[name] ?? 0);
}

/** CPU milliseconds each component spent per `per` units of work between two snapshots. */
export function cpuPer(before: Record<string, number>, after: Record<string, number>, units: number, per = 1000): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(after))
    out[name] = Math.round(((((after[name] ?? 0) - (before[name] ?? 0)) * 1000 * per) / Math.max(1, units)) * 10) / 10;
  return out;
}

/**
 * The machine's CPU time so far, in seconds, from the first line of /proc/stat (or `statText`):
 * `busy` is what every process and interrupt ran; `steal` what the hypervisor gave to other guests
 * while this one had work to run; `total` every kind, idle included.
 */
export function machineTimes(statText: string = readFileSync('/proc/stat', 'utf8')): { busy: number; steal: number; total: number } {
  const fields = statText.split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq;
  return { busy: busy / TICKS_PER_SECOND, steal: steal / TICKS_PER_SECOND, total: (busy + idle + iowait + steal) / TICKS_PER_SECOND };
}

/**
 * CPU seconds the whole machine has spent busy so far (every process, not only the benchmark's:
 * other work on the machine shows here and not in the components), the time stolen by the
 * hypervisor included.
 */
export function machineBusySeconds(): number {
  const { busy, steal } = machineTimes();
  return busy + steal;
}

/**
 * The percentage of the machine's CPU time between two readings of machineTimes that the
 * hypervisor gave to other guests. On a shared host a phase with much of it ran on less machine
 * than its baseline did, so its ratio says less; each measured window records it.
 */
export function stealPercent(before: { steal: number; total: number }, after: { steal: number; total: number }): number {
  const total = after.total - before.total;
  return total > 0 ? Math.round(((after.steal - before.steal) / total) * 1000) / 10 : 0;
}

/**
 * Starts a window of the machine's time; the function it returns gives the percentage stolen since
 * (stealPercent). Every measured window of the benchmarks records it this way. `read` reads the
 * machine's times (machineTimes of /proc/stat).
 */
export function stealSince(read: () => { steal: number; total: number } = machineTimes): () => number {
  const before = read();
  return () => stealPercent(before, read());
}
