import type { ChildProcess } from 'node:child_process';
import { killProcessTreeSync } from './process-tree.ts';

const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;

/** Synchronous 'exit' handler: SIGKILLs every tracked server and its children. */
function killAllTrackedSync(): void {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      killProcessTreeSync(child.pid);
    }
  }
  running.clear();
}

/**
 * Tracks a server process so it does not outlive this Node process: when Node exits (normally,
 * via `process.exit()` or an uncaught exception), anything still running is SIGKILLed together
 * with its children. A SIGKILL of Node itself cannot be handled by any handler.
 */
export function trackChildProcess(child: ChildProcess): void {
  if (!exitHandlerInstalled) {
    process.on('exit', killAllTrackedSync);
    exitHandlerInstalled = true;
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}
