import { execFile } from 'node:child_process';

/** Outcome of {@link runCommand}; never thrown, the caller decides what a failure means. */
export interface CommandResult {
  /** Exit code, or `null` when the process was killed by a signal or did not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not be started (e.g. ENOENT) or timed out. */
  error: Error | undefined;
}

export interface RunCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (requires root). */
  uid?: number;
  gid?: number;
  /** Kill the command after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** Runs a short-lived command to completion and collects its output. */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        uid: options.uid,
        gid: options.gid,
        timeout: options.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr, error: error ?? undefined });
      },
    );
  });
}

/** Combined output of a command, for error messages. */
export function describeCommandFailure(command: string, result: CommandResult): string {
  const output = `${result.stdout}${result.stderr}`.trim();
  const reason = result.error?.message ?? `exit code ${result.code}`;
  return `${command} failed (${reason})${output === '' ? '' : `:\n${output}`}`;
}
