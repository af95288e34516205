import { spawn } from 'node:child_process';
import { runCommand } from './run-command.ts';

/** True when `apt-get` can be run (Debian/Ubuntu). */
export async function hasAptGet(): Promise<boolean> {
  const result = await runCommand('apt-get', ['--version'], { timeoutMs: 10_000 });
  return result.code === 0;
}

function runWithProgressOnStderr(args: readonly string[]): Promise<void> {
  process.stderr.write(`[@eap/local-services] $ apt-get ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`apt-get ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/**
 * Installs Debian packages: `apt-get update`, then
 * `DEBIAN_FRONTEND=noninteractive apt-get install -y <packages>`, with apt's output on stderr.
 * Requires root.
 */
export async function aptInstall(packages: readonly string[]): Promise<void> {
  await runWithProgressOnStderr(['update']);
  await runWithProgressOnStderr(['install', '-y', ...packages]);
}
