import { chown, lchown, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';

/** User and group ids to run PostgreSQL as. */
export interface RunAsUser {
  uid: number;
  gid: number;
}

async function readId(flag: '-u' | '-g'): Promise<number | undefined> {
  const result = await runCommand('id', [flag, 'postgres'], { timeoutMs: 10_000 });
  const id = Number(result.stdout.trim());
  return result.code === 0 && Number.isInteger(id) ? id : undefined;
}

/**
 * `undefined` when not running as root (PostgreSQL then runs as the current user). As root,
 * initdb and postgres refuse to run, so they run as the `postgres` system user, whose ids are
 * read with `id -u postgres` / `id -g postgres`.
 */
export async function resolvePostgresRunAs(): Promise<RunAsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([readId('-u'), readId('-g')]);
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'Running as root, PostgreSQL must run as the `postgres` system user, but `id -u postgres` ' +
        'found no such user. Install the `postgresql` package (it creates the user) or run as a ' +
        'non-root user.',
    );
  }
  return { uid, gid };
}

/** True when `user` can traverse (search) `dir` and every directory above it. */
export async function canTraverseAs(dir: string, user: RunAsUser): Promise<boolean> {
  const result = await runCommand('test', ['-x', dir], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/',
    timeoutMs: 10_000,
  });
  return result.code === 0;
}

/** `chown -R`: gives `path` and everything below it to `user` (symlinks are not followed). */
export async function chownRecursive(path: string, user: RunAsUser): Promise<void> {
  await chown(path, user.uid, user.gid);
  const entries = await readdir(path, { recursive: true });
  for (const entry of entries) await lchown(join(path, entry), user.uid, user.gid);
}
