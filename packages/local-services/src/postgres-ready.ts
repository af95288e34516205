import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';

/**
 * One readiness probe: `pg_isready -h 127.0.0.1 -p PORT` (from `binDir`, else from PATH)
 * exits 0 once the server accepts connections.
 */
export async function isPostgresReady(binDir: string, port: number): Promise<boolean> {
  const local = join(binDir, 'pg_isready');
  const pgIsReady = existsSync(local) ? local : 'pg_isready';
  const result = await runCommand(
    pgIsReady,
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'eap', '-d', 'postgres', '-t', '2'],
    { timeoutMs: 5_000 },
  );
  return result.code === 0;
}
