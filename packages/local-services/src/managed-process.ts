import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { trackChildProcess } from './process-registry.ts';
import { isPidGone, killProcessTreeSync, listDescendantPidsSync, signalPid } from './process-tree.ts';

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running server process started by {@link spawnManagedProcess}. */
export interface ManagedProcess {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  isRunning(): boolean;
}

export interface SpawnManagedProcessOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  /** stdout and stderr are appended to this file. */
  logFile: string;
  /** Run as this user (requires root). */
  uid?: number;
  gid?: number;
}

/** Starts a server process with output appended to a log file and tracks it for cleanup. */
export async function spawnManagedProcess(options: SpawnManagedProcessOptions): Promise<ManagedProcess> {
  const logFd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      stdio: ['ignore', logFd, logFd],
      // A process group of its own: Ctrl-C in a terminal (make dev) must not stop the servers
      // before the processes using them; they are stopped in order, or killed on exit.
      detached: true,
      uid: options.uid,
      gid: options.gid,
    });
  } finally {
    closeSync(logFd);
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`could not start ${options.command}: ${error.message}`, { cause: error })));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.command}: no pid`);
  trackChildProcess(child);
  let running = true;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  return { pid, exited, isRunning: () => running };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when the process exited within `timeoutMs`, false on timeout. */
export async function waitForExit(proc: ManagedProcess, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([proc.exited.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForPidsGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some((pid) => !isPidGone(pid)) && Date.now() < deadline) await delay(25);
}

/**
 * SIGKILLs the process and all its descendants (e.g. PostgreSQL backends) and waits until they
 * are gone, like a crash of the whole server.
 */
export async function killProcessTree(proc: ManagedProcess): Promise<void> {
  if (!proc.isRunning()) return;
  const descendants = killProcessTreeSync(proc.pid);
  await proc.exited;
  await waitForPidsGone(descendants, 10_000);
}

/**
 * Graceful stop: sends `signal`, waits up to `timeoutMs` for the process (and briefly for its
 * children) to exit, and falls back to {@link killProcessTree} when it does not.
 */
export async function stopProcess(proc: ManagedProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (!proc.isRunning()) return;
  const descendants = listDescendantPidsSync(proc.pid);
  signalPid(proc.pid, signal);
  if (await waitForExit(proc, timeoutMs)) await waitForPidsGone(descendants, 2_000);
  else await killProcessTree(proc);
}
