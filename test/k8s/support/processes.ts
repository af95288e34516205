import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '@eap/local-services';

/**
 * A server process of the test cluster. Its output goes straight to a log file (not through
 * this process), so a chatty server never blocks on a full pipe.
 */
export interface ServerProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves when the process has exited (with a description of how). */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log. */
  logTail(lines?: number): string;
}

const running = new Set<ChildProcess>();
const dirsToRemove = new Set<string>();
let handlersInstalled = false;

/** Synchronous last resort: SIGKILL every server still running and remove the temp folders. */
function killAllSync(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
  for (const dir of dirsToRemove) rmSync(dir, { recursive: true, force: true });
  dirsToRemove.clear();
}

/**
 * When vitest is ended by a signal it does not handle itself, the teardown function never runs:
 * kill the servers and re-raise the signal so the default behaviour (terminate) is unchanged.
 * When someone else (vitest) also listens, leave the exit to them: the 'exit' hook still runs.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) {
    // Someone else decides whether and how the process ends; make sure the servers go anyway.
    for (const child of running) child.kill('SIGTERM');
    return;
  }
  killAllSync();
  removeSignalHandlers();
  process.kill(process.pid, signal);
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function removeSignalHandlers(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Removes the process-wide hooks once the cluster has been stopped normally. */
export function uninstallCleanupHandlers(): void {
  if (!handlersInstalled || running.size > 0 || dirsToRemove.size > 0) return;
  process.off('exit', killAllSync);
  removeSignalHandlers();
  handlersInstalled = false;
}

/** Removes `dir` when this process exits abnormally (the normal teardown removes it itself). */
export function removeOnExit(dir: string): () => void {
  installHandlers();
  dirsToRemove.add(dir);
  return () => dirsToRemove.delete(dir);
}

export function startServer(name: string, binary: string, args: readonly string[], logFile: string): ServerProcess {
  installHandlers();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  running.add(child);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ? `killed by ${signal}` : `exit code ${code}`);
    });
    child.once('error', (error) => {
      running.delete(child);
      resolve(`failed to start: ${error.message}`);
    });
  });
  const logTail = (lines = 40) => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { name, child, logFile, exited, stop, logTail };
}

export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * Polls `check` every `intervalMs` until it returns true; fails early (with the server's log
 * tail) when `server` exits, and after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; server?: ServerProcess },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  let exitedHow: string | undefined;
  void options.server?.exited.then((how) => {
    exitedHow = how;
  });
  for (;;) {
    if (exitedHow !== undefined && options.server) {
      throw new Error(`${options.server.name} exited (${exitedHow}) before ${what}:\n${options.server.logTail()}`);
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const tail = options.server ? `\n${options.server.name} log:\n${options.server.logTail()}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what} (last error: ${String(lastError)})${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
