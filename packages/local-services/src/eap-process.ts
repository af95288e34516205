import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NATIVE_ENV, nodeCommandFlags } from '@eap/core';

/** The `eap` launcher of this checkout. */
export const EAP_BIN = fileURLToPath(new URL('../../../services/cli/bin/eap.js', import.meta.url));

/** Runs `eap <args>` as a real child process (for tests and benchmarks) and collects its output. */
export function runEap(args: string[], env: Record<string, string | undefined>, timeoutMs = 30_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeCommandFlags(args[0]), EAP_BIN, ...args], {
      env: { PATH: process.env.PATH, ...NATIVE_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`eap ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts a long-running `eap <args>` process (e.g. `api`); the caller stops it. `bin` runs the
 * launcher of another checkout instead (a benchmark comparing with an earlier version).
 * `nodeFlags` go on node's command line after the shipped ones: V8 flags that `NODE_OPTIONS` may
 * not carry, such as `--trace-gc-nvp` for a benchmark.
 */
export function spawnEap(
  args: string[],
  env: Record<string, string | undefined>,
  bin: string = EAP_BIN,
  nodeFlags: readonly string[] = [],
): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [...nodeCommandFlags(args[0]), ...nodeFlags, bin, ...args], {
    env: { PATH: process.env.PATH, ...NATIVE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  return Object.assign(child, { output: () => output });
}

/** Resolves with the exit code (or signal) when the child exits. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
