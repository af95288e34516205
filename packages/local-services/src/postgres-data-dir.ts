import { existsSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { debug } from './debug.ts';
import { canTraverseAs, chownRecursive, type RunAsUser } from './postgres-user.ts';
import { removeDirOnExit } from './process-registry.ts';
import { isPidGone } from './process-tree.ts';
import { describeCommandFailure, runCommand } from './run-command.ts';

/** Longest Unix socket path the kernel accepts (sun_path is 108 bytes including the NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/** A mkdtemp directory owned by `user`, removed when the Node process exits. */
async function makeTempDirFor(prefix: string, user: RunAsUser | undefined, base = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(base, prefix));
  removeDirOnExit(dir);
  if (user !== undefined) await chown(dir, user.uid, user.gid);
  return dir;
}

/**
 * Creates the data directory and, as root, hands it to the `postgres` user. When that user
 * cannot reach the requested directory (e.g. a 0700 parent owned by root) a fresh mkdtemp
 * directory under os.tmpdir() is used instead, reported via NODE_DEBUG=eap-local-services and
 * removed when the Node process exits (no later run could find it again).
 * Returns the directory actually used.
 */
export async function preparePostgresDataDir(requested: string, user: RunAsUser | undefined): Promise<string> {
  await mkdir(requested, { recursive: true });
  if (user === undefined) return requested;
  let dataDir = requested;
  if (!(await canTraverseAs(dirname(requested), user))) {
    dataDir = await makeTempDirFor('eap-postgres-', user);
    debug(
      'the postgres user (uid %d) cannot traverse %s; using %s as PostgreSQL data directory ' + 'instead (removed when this process exits)',
      user.uid,
      dirname(requested),
      dataDir,
    );
    if (!(await canTraverseAs(dirname(dataDir), user))) {
      throw new Error(
        `The postgres user cannot reach ${requested} nor ${dataDir}: make the parent ` +
          'directories searchable (chmod o+x) or point TMPDIR at a directory it can reach.',
      );
    }
  }
  if ((await stat(dataDir)).uid !== user.uid) await chownRecursive(dataDir, user);
  return dataDir;
}

/** True when the directory already holds a PostgreSQL cluster. */
export function isInitializedDataDir(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/**
 * Runs `initdb -D dataDir -U eap --auth=trust -E UTF8 --locale=C.UTF-8` (retrying with
 * `--locale=C` when C.UTF-8 is refused); `--no-sync` is added when `fast`.
 */
export async function initPostgresDataDir(options: {
  binDir: string;
  dataDir: string;
  user: RunAsUser | undefined;
  fast: boolean;
}): Promise<void> {
  const initdb = join(options.binDir, 'initdb');
  const run = (locale: string) =>
    runCommand(
      initdb,
      ['-D', options.dataDir, '-U', 'eap', '--auth=trust', '-E', 'UTF8', `--locale=${locale}`, ...(options.fast ? ['--no-sync'] : [])],
      { uid: options.user?.uid, gid: options.user?.gid, cwd: '/', timeoutMs: 120_000 },
    );
  let result = await run('C.UTF-8');
  if (result.code !== 0 && /locale/i.test(result.stdout + result.stderr)) {
    debug('initdb refused --locale=C.UTF-8, retrying with --locale=C');
    result = await run('C');
  }
  if (result.code !== 0) {
    throw new Error(describeCommandFailure(`${initdb} -D ${options.dataDir}`, result));
  }
}

/**
 * Directory for PostgreSQL's Unix socket: the data directory when `<dir>/.s.PGSQL.<port>` fits
 * the 107-byte socket path limit, else a short mkdtemp directory under os.tmpdir() (or /tmp),
 * removed when the Node process exits.
 */
export async function choosePostgresSocketDir(dataDir: string, user: RunAsUser | undefined): Promise<string> {
  const fits = (dir: string) => Buffer.byteLength(join(dir, '.s.PGSQL.65535')) <= MAX_SOCKET_PATH_BYTES;
  if (fits(dataDir)) return dataDir;
  const base = fits(join(tmpdir(), 'eap-pgsock-XXXXXX')) ? tmpdir() : '/tmp';
  const dir = await makeTempDirFor('eap-pgsock-', user, base);
  debug('data directory path too long for a Unix socket; using socket directory %s', dir);
  return dir;
}

/**
 * Removes `postmaster.pid` when the pid in it no longer exists (left behind by a SIGKILL).
 * PostgreSQL also detects that itself; removing it first just makes the restart explicit.
 */
export async function removeStalePostmasterPid(dataDir: string): Promise<void> {
  const file = join(dataDir, 'postmaster.pid');
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch {
    return;
  }
  const pid = Number(content.split('\n', 1)[0]);
  if (Number.isInteger(pid) && pid > 0 && isPidGone(pid)) {
    debug('removing stale %s (pid %d is gone)', file, pid);
    await unlink(file).catch(() => undefined);
  }
}

/** Makes sure the log file exists and belongs to the server's user. */
export async function ensureLogFile(file: string, user: RunAsUser | undefined): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, '');
  if (user !== undefined) await chown(file, user.uid, user.gid);
  await chmod(file, 0o640);
}
