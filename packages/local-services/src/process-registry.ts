import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { killProcessTreeSync } from './process-tree.ts';

const running = new Set<ChildProcess>();
const dirsToRemove = new Set<string>();
let exitHandlerInstalled = false;

/**
 * Synchronous 'exit' handler: SIGKILLs every tracked server and its children, then removes the
 * directories registered with {@link removeDirOnExit}.
 */
function cleanUpSync(): void {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      killProcessTreeSync(child.pid);
    }
  }
  running.clear();
  for (const dir of dirsToRemove) rmSync(dir, { recursive: true, force: true });
  dirsToRemove.clear();
}

const TERMINATING_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Signal handler that only acts when nobody else listens for the signal: it cleans up and
 * re-raises the signal, so the default behaviour (terminate) is unchanged. This matters for
 * vitest, whose fork workers are ended with SIGTERM and never reach 'exit' handlers. When the
 * application has its own handler (e.g. a graceful shutdown), that handler stays in charge.
 */
function onTerminatingSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  cleanUpSync();
  process.off(signal, onTerminatingSignal);
  process.kill(process.pid, signal);
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  process.on('exit', cleanUpSync);
  for (const signal of TERMINATING_SIGNALS) process.on(signal, onTerminatingSignal);
  exitHandlerInstalled = true;
}

/**
 * Tracks a server process so it does not outlive this Node process: when Node exits (normally,
 * via `process.exit()` or an uncaught exception) or is ended by SIGTERM/SIGINT/SIGHUP that it
 * does not otherwise handle, anything still running is SIGKILLed together with its children.
 * A SIGKILL of Node itself cannot be handled by any handler.
 */
export function trackChildProcess(child: ChildProcess): void {
  installExitHandler();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Removes `dir` when this Node process exits: for temporary directories made on the caller's
 * behalf that no later run could find again.
 */
export function removeDirOnExit(dir: string): void {
  installExitHandler();
  dirsToRemove.add(dir);
}
