import { constants } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { aptInstall, hasAptGet } from './apt-install.ts';
import { runCommand } from './run-command.ts';

/** Paths of the server binaries, as found by {@link ensureBinaries}. */
export interface LocalBinaries {
  /** Absolute path of `redis-server`. */
  redisServer: string;
  /** Directory holding `initdb`, `postgres` and `pg_isready`. */
  postgresBin: string;
}

export interface EnsureBinariesOptions {
  /**
   * Install missing packages with apt-get when running as root (default true). Set false to
   * only look.
   */
  install?: boolean;
}

/** Debian package to install for each missing binary. */
const DEBIAN_PACKAGES = { redisServer: 'redis-server', postgresBin: 'postgresql' } as const;

/** Homebrew formula for each Debian package, for the hint on macOS. */
const BREW_FORMULAS: Record<string, string> = { 'redis-server': 'redis', postgresql: 'postgresql@16' };

function describeMissingPackages(packages: readonly string[], reason: string): string {
  const quoted = packages.map((name) => `\`${name}\``).join(' and ');
  const brew = packages.map((name) => BREW_FORMULAS[name] ?? name).join(' ');
  return (
    `Missing binaries for local services: install the Debian/Ubuntu package ${quoted} ` +
    `(sudo apt-get install -y ${packages.join(' ')}; on macOS: brew install ${brew}). ` +
    `Not installed automatically: ${reason}.`
  );
}

/** Thrown when Redis or PostgreSQL binaries are missing and were not installed. */
export class MissingBinariesError extends Error {
  /** Debian package names that would provide the missing binaries. */
  readonly packages: readonly string[];

  constructor(packages: readonly string[], reason: string, options?: { cause?: unknown }) {
    super(describeMissingPackages(packages, reason), options);
    this.name = 'MissingBinariesError';
    this.packages = packages;
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && (await isExecutableFile(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/** Locates `redis-server` on PATH or in the usual system directories. */
export async function findRedisServer(): Promise<string | undefined> {
  const onPath = await findOnPath('redis-server');
  if (onPath !== undefined) return onPath;
  for (const dir of ['/usr/bin', '/usr/local/bin', '/usr/sbin', '/opt/homebrew/bin']) {
    if (await isExecutableFile(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  return undefined;
}

interface PostgresCandidate {
  binDir: string;
  version: number[];
}

/** `[major]` for PostgreSQL 10 and later, `[major, minor]` for 9.x (whose major is "9.6"). */
function parseVersion(text: string): number[] | undefined {
  const match = /(\d+)(?:\.(\d+))?/.exec(text);
  if (match === null) return undefined;
  const major = Number(match[1]);
  return major >= 10 ? [major] : [major, Number(match[2] ?? 0)];
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

async function isPostgresBinDir(dir: string): Promise<boolean> {
  return (await isExecutableFile(join(dir, 'initdb'))) && (await isExecutableFile(join(dir, 'postgres')));
}

/** Versioned install directories: /usr/lib/postgresql/<N>/bin, /usr/pgsql-<N>/bin, Homebrew. */
async function findVersionedPostgresDirs(): Promise<PostgresCandidate[]> {
  const layouts = [
    { parent: '/usr/lib/postgresql', pattern: /^(\d+(?:\.\d+)?)$/, bin: 'bin' },
    { parent: '/usr', pattern: /^pgsql-(\d+(?:\.\d+)?)$/, bin: 'bin' },
    { parent: '/opt/homebrew/opt', pattern: /^postgresql@(\d+)$/, bin: 'bin' },
    { parent: '/usr/local/opt', pattern: /^postgresql@(\d+)$/, bin: 'bin' },
  ];
  const candidates: PostgresCandidate[] = [];
  for (const layout of layouts) {
    let entries: string[];
    try {
      entries = await readdir(layout.parent);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const match = layout.pattern.exec(entry);
      const version = match?.[1] === undefined ? undefined : parseVersion(match[1]);
      const binDir = join(layout.parent, entry, layout.bin);
      if (version !== undefined && (await isPostgresBinDir(binDir))) {
        candidates.push({ binDir, version });
      }
    }
  }
  return candidates;
}

/** The directory of `initdb` found on PATH, with the version `postgres --version` reports. */
async function findPostgresDirOnPath(): Promise<PostgresCandidate | undefined> {
  const initdb = await findOnPath('initdb');
  if (initdb === undefined) return undefined;
  const binDir = dirname(await realpath(initdb));
  if (!(await isPostgresBinDir(binDir))) return undefined;
  const result = await runCommand(join(binDir, 'postgres'), ['--version'], { timeoutMs: 10_000 });
  // "postgres (PostgreSQL) 15.18 (Debian ...)"
  const version = parseVersion(result.stdout.replace(/^[^)]*\)/, '')) ?? [0];
  return { binDir, version };
}

/**
 * Locates the PostgreSQL server binaries directory (with `initdb` and `postgres`): versioned
 * directories such as /usr/lib/postgresql/<N>/bin and the directory of `initdb` on PATH; the
 * highest version wins.
 */
export async function findPostgresBinDir(): Promise<string | undefined> {
  const candidates = await findVersionedPostgresDirs();
  const onPath = await findPostgresDirOnPath();
  if (onPath !== undefined) candidates.push(onPath);
  candidates.sort((a, b) => compareVersions(b.version, a.version));
  return candidates[0]?.binDir;
}

async function locateBinaries(): Promise<Partial<LocalBinaries>> {
  const [redisServer, postgresBin] = await Promise.all([findRedisServer(), findPostgresBinDir()]);
  return { redisServer, postgresBin };
}

function missingPackages(found: Partial<LocalBinaries>): string[] {
  const missing: string[] = [];
  if (found.redisServer === undefined) missing.push(DEBIAN_PACKAGES.redisServer);
  if (found.postgresBin === undefined) missing.push(DEBIAN_PACKAGES.postgresBin);
  return missing;
}

function isComplete(found: Partial<LocalBinaries>): found is LocalBinaries {
  return found.redisServer !== undefined && found.postgresBin !== undefined;
}

/** Serializes installs when several callers run ensureBinaries() at the same time. */
let installQueue: Promise<unknown> = Promise.resolve();

/**
 * Locates `redis-server` and the PostgreSQL bin directory. When something is missing, running
 * as root, apt-get is available and `install` is not false, runs `apt-get update` and
 * `apt-get install -y` for the missing packages (`redis-server`, `postgresql`), printing
 * progress to stderr. Otherwise throws a {@link MissingBinariesError} naming the packages.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<LocalBinaries> {
  const found = await locateBinaries();
  if (isComplete(found)) return found;
  const packages = missingPackages(found);
  if (options.install === false) throw new MissingBinariesError(packages, 'install: false');
  if (process.getuid?.() !== 0) throw new MissingBinariesError(packages, 'not running as root');
  if (!(await hasAptGet())) throw new MissingBinariesError(packages, 'apt-get is not available');

  const install = installQueue.then(async () => {
    const again = await locateBinaries();
    if (isComplete(again)) return again;
    try {
      await aptInstall(missingPackages(again));
    } catch (error) {
      throw new MissingBinariesError(packages, `apt-get failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const installed = await locateBinaries();
    if (isComplete(installed)) return installed;
    throw new MissingBinariesError(missingPackages(installed), 'still missing after apt-get');
  });
  installQueue = install.catch(() => undefined);
  return install;
}

/** `redis-server` path, or a {@link MissingBinariesError} (never installs). */
export async function requireRedisServer(): Promise<string> {
  const path = await findRedisServer();
  if (path === undefined) {
    throw new MissingBinariesError([DEBIAN_PACKAGES.redisServer], 'use ensureBinaries() for that');
  }
  return path;
}

/** PostgreSQL bin directory, or a {@link MissingBinariesError} (never installs). */
export async function requirePostgresBinDir(): Promise<string> {
  const dir = await findPostgresBinDir();
  if (dir === undefined) {
    throw new MissingBinariesError([DEBIAN_PACKAGES.postgresBin], 'use ensureBinaries() for that');
  }
  return dir;
}
