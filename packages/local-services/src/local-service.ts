import { assertPortFree } from './free-port.ts';
import { readLogTail } from './log-tail.ts';
import { killProcessTree, type ManagedProcess, stopProcess, waitForExit } from './managed-process.ts';
import type { LocalService } from './types.ts';

/** How to run one kind of server; used by {@link createLocalService}. */
export interface ServiceLauncher {
  /** Spawns the server; {@link createLocalService} then waits for {@link isReady}. */
  spawn(): Promise<ManagedProcess>;
  /**
   * One readiness probe; must not throw. It must check that `proc` itself answers, not some
   * other server that already had the port.
   */
  isReady(proc: ManagedProcess): Promise<boolean>;
  /** Human-readable name for error messages, e.g. `redis-server on port 6390`. */
  name: string;
  logFile: string;
  readyTimeoutMs: number;
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
}

export interface LocalServiceInit {
  url: string;
  port: number;
  dataDir: string;
  launcher: ServiceLauncher;
}

/**
 * Polls `launcher.isReady()` until it answers, the process exits or the timeout passes. On
 * failure the process is killed and the error includes the tail of the log file.
 */
export async function waitUntilReady(proc: ManagedProcess, launcher: ServiceLauncher): Promise<void> {
  const deadline = Date.now() + launcher.readyTimeoutMs;
  for (;;) {
    if (await launcher.isReady(proc)) return;
    if (!proc.isRunning()) {
      const { code, signal } = await proc.exited;
      const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
      const tail = await readLogTail(launcher.logFile);
      throw new Error(`${launcher.name} exited (${how}) before accepting connections. ` + `Last lines of ${launcher.logFile}:\n${tail}`);
    }
    if (Date.now() >= deadline) {
      await killProcessTree(proc);
      const tail = await readLogTail(launcher.logFile);
      throw new Error(
        `${launcher.name} did not accept connections within ${launcher.readyTimeoutMs} ms. ` +
          `Last lines of ${launcher.logFile}:\n${tail}`,
      );
    }
    await waitForExit(proc, 100);
  }
}

/**
 * Builds a {@link LocalService} around a launcher. Operations are serialized, so concurrent
 * start/stop/kill calls run one after the other; stop and kill are no-ops when not running and
 * start is a no-op when running. The service starts stopped: call `start()`.
 */
export function createLocalService(init: LocalServiceInit): LocalService {
  const { launcher } = init;
  let current: ManagedProcess | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const enqueue = (operation: () => Promise<void>): Promise<void> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    url: init.url,
    port: init.port,
    dataDir: init.dataDir,
    start: () =>
      enqueue(async () => {
        if (current?.isRunning()) return;
        await assertPortFree(init.port, launcher.name);
        const proc = await launcher.spawn();
        current = proc;
        await waitUntilReady(proc, launcher);
      }),
    stop: () =>
      enqueue(async () => {
        if (current === undefined) return;
        await stopProcess(current, launcher.stopSignal, launcher.stopTimeoutMs);
        current = undefined;
      }),
    kill: () =>
      enqueue(async () => {
        if (current === undefined) return;
        await killProcessTree(current);
        current = undefined;
      }),
  };
}
