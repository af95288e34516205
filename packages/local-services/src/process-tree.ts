import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid and state letter from `/proc/<pid>/stat` (Linux), or undefined. */
function readProcStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." where comm may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const ppid = Number(fields[1]);
    return state === undefined || Number.isNaN(ppid) ? undefined : { ppid, state };
  } catch {
    return undefined;
  }
}

/** Map from parent pid to child pids of every process visible to us. */
function readChildrenByParentSync(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  const add = (pid: number, ppid: number) => {
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  };
  let procEntries: string[] | undefined;
  try {
    procEntries = readdirSync('/proc');
  } catch {
    procEntries = undefined;
  }
  if (procEntries !== undefined) {
    for (const entry of procEntries) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readProcStat(Number(entry));
      if (stat !== undefined) add(Number(entry), stat.ppid);
    }
    return children;
  }
  try {
    const output = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
    for (const line of output.split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid !== undefined && ppid !== undefined && !Number.isNaN(pid)) add(pid, ppid);
    }
  } catch {
    // No way to list processes: only the root process itself will be signalled.
  }
  return children;
}

/**
 * Pids of all descendants of `rootPid` (children, grandchildren, ...), read synchronously so it
 * can run inside a process 'exit' handler. Must be read before the root dies: orphans are
 * re-parented and can no longer be attributed to it.
 */
export function listDescendantPidsSync(rootPid: number): number[] {
  const childrenByParent = readChildrenByParentSync();
  const result: number[] = [];
  const queue = [rootPid];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of childrenByParent.get(pid) ?? []) {
      result.push(child);
      queue.push(child);
    }
  }
  return result;
}

/** Sends a signal, ignoring processes that are already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/** True when no process with this pid exists any more (zombies count as gone). */
export function isPidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return readProcStat(pid)?.state === 'Z';
}

/** SIGKILLs a process and all its descendants, synchronously. Returns the descendant pids. */
export function killProcessTreeSync(rootPid: number): number[] {
  const descendants = listDescendantPidsSync(rootPid);
  signalPid(rootPid, 'SIGKILL');
  for (const pid of descendants) signalPid(pid, 'SIGKILL');
  return descendants;
}
