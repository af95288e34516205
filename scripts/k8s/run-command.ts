/** Running commands: {@link run} (async, output collected) and {@link versionLine} (sync). */
import { spawn, spawnSync } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Lower the priority (nice 10): builds share the machine with other people's tests. */
  nice?: boolean;
  /** Called with each line of stderr (go build -v prints package names there). */
  onStderrLine?: (line: string) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = options.nice && hasNice() ? ['nice', ['-n', '10', command, ...args]] : [command, [...args]];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
      if (options.onStderrLine) {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) options.onStderrLine(line);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise({ stdout, stderr });
      else {
        const tail = stderr.trim().split('\n').slice(-60).join('\n');
        reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})\n${tail}`));
      }
    });
  });
}

let niceAvailable: boolean | undefined;
function hasNice(): boolean {
  niceAvailable ??= spawnSync('nice', ['true']).status === 0;
  return niceAvailable;
}

/**
 * The first line with a version number (digits.digits) of `<binary> <args>` output (e.g. "  Version:  v2.4.2" after the
 * name line of containerd-shim-runc-v2 -v), else its first line; undefined when it does not run.
 */
export function versionLine(binary: string, args: readonly string[] = ['--version']): string | undefined {
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) return undefined;
  const lines = `${result.stdout}${result.stderr}`.trim().split('\n');
  return (lines.find((line) => /\d+\.\d+/.test(line)) ?? lines[0])?.trim();
}
