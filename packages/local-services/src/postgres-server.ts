import { join, resolve } from 'node:path';
import { requirePostgresBinDir } from './binaries.ts';
import { startOnFreePort } from './free-port.ts';
import { createLocalService } from './local-service.ts';
import { spawnManagedProcess } from './managed-process.ts';
import {
  choosePostgresSocketDir,
  ensureLogFile,
  initPostgresDataDir,
  isInitializedDataDir,
  preparePostgresDataDir,
  removeStalePostmasterPid,
} from './postgres-data-dir.ts';
import { isPostgresReady } from './postgres-ready.ts';
import { resolvePostgresRunAs } from './postgres-user.ts';
import type { LocalService } from './types.ts';

export interface PostgresOptions {
  /** Cluster directory; initdb runs when it has no PG_VERSION yet. Created when missing. */
  dataDir: string;
  /** Default: a free loopback port. */
  port?: number;
  /**
   * For tests: `fsync=off`, `synchronous_commit=off`, `full_page_writes=off` (and
   * `initdb --no-sync`). Committed data survives `stop()` but not necessarily `kill()`.
   */
  fast?: boolean;
  /** Directory with initdb/postgres/pg_isready (default: {@link findPostgresBinDir}). */
  postgresBin?: string;
  /** More server settings (`name=value`, passed as `-c`), e.g. `shared_buffers=4GB` for benchmarks. */
  settings?: string[];
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const FAST_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];

/** Quotes a directory for a list-valued setting such as unix_socket_directories. */
function quoteListItem(value: string): string {
  return /[\s,"]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function postgresArgs(options: { dataDir: string; port: number; socketDir: string; fast: boolean; settings: string[] }): string[] {
  const settings = [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${quoteListItem(options.socketDir)}`,
    'max_connections=200',
    ...(options.fast ? FAST_SETTINGS : []),
    ...options.settings,
  ];
  return ['-D', options.dataDir, '-p', String(options.port), ...settings.flatMap((setting) => ['-c', setting])];
}

/**
 * Starts a private PostgreSQL server on 127.0.0.1 with its cluster in `dataDir` (initdb with
 * superuser `eap`, trust auth, UTF8, locale C.UTF-8 or C on first use), log file
 * `dataDir/postgres.log`, and waits until `pg_isready` succeeds (30 s at most; the error then
 * includes the end of the log). URL: `postgres://eap@127.0.0.1:PORT/postgres`, no password.
 *
 * As root, initdb and postgres run as the `postgres` system user and the data directory is
 * chowned to it; when that user cannot traverse the parent of `dataDir`, a mkdtemp directory
 * under os.tmpdir() is used instead (see `service.dataDir`; logged with
 * NODE_DEBUG=eap-local-services) and removed when the Node process exits. Give the postgres
 * user search permission on the path (e.g. `chmod 755` a mkdtemp root) to keep data in place.
 * `stop()` sends SIGINT (fast shutdown).
 */
export async function startPostgres(options: PostgresOptions): Promise<LocalService> {
  const binDir = options.postgresBin ?? (await requirePostgresBinDir());
  const user = await resolvePostgresRunAs();
  const dataDir = await preparePostgresDataDir(resolve(options.dataDir), user);
  const fast = options.fast ?? false;
  if (!isInitializedDataDir(dataDir)) await initPostgresDataDir({ binDir, dataDir, user, fast });
  const socketDir = await choosePostgresSocketDir(dataDir, user);
  const logFile = join(dataDir, 'postgres.log');

  return startOnFreePort(options.port, async (port) => {
    const service = createLocalService({
      url: `postgres://eap@127.0.0.1:${port}/postgres`,
      port,
      dataDir,
      launcher: {
        name: `postgres on 127.0.0.1:${port} (data ${dataDir})`,
        logFile,
        spawn: async () => {
          await removeStalePostmasterPid(dataDir);
          await ensureLogFile(logFile, user);
          return spawnManagedProcess({
            command: join(binDir, 'postgres'),
            args: postgresArgs({ dataDir, port, socketDir, fast, settings: options.settings ?? [] }),
            cwd: dataDir,
            logFile,
            uid: user?.uid,
            gid: user?.gid,
          });
        },
        isReady: (proc) => isPostgresReady({ binDir, dataDir, port, pid: proc.pid }),
        readyTimeoutMs: READY_TIMEOUT_MS,
        stopSignal: 'SIGINT',
        stopTimeoutMs: STOP_TIMEOUT_MS,
      },
    });
    await service.start();
    return service;
  });
}
