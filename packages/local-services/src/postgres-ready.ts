import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';

/**
 * True when `postmaster.pid` in `dataDir` names process `pid` and reports status `ready` (the
 * check pg_ctl uses): the server on the port is ours and has finished starting up.
 */
async function isOurPostmasterReady(dataDir: string, pid: number): Promise<boolean> {
  try {
    const lines = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
    return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}

/**
 * One readiness probe: our postmaster reports `ready` in postmaster.pid and
 * `pg_isready -h 127.0.0.1 -p PORT` (from `binDir`, else from PATH) exits 0.
 */
export async function isPostgresReady(options: { binDir: string; dataDir: string; port: number; pid: number }): Promise<boolean> {
  if (!(await isOurPostmasterReady(options.dataDir, options.pid))) return false;
  const local = join(options.binDir, 'pg_isready');
  const pgIsReady = existsSync(local) ? local : 'pg_isready';
  const result = await runCommand(pgIsReady, ['-h', '127.0.0.1', '-p', String(options.port), '-U', 'eap', '-d', 'postgres', '-t', '2'], {
    timeoutMs: 5_000,
  });
  return result.code === 0;
}
