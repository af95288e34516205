import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EapProcess, nodeCommandFlags, RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import pg from 'pg';
import { type CreatedProject, createMigrator, createProject } from '@eap/db';
import { EAP_BIN, ensureBinaries, exited, freePort, spawnEap, startPostgres, startRedis } from '@eap/local-services';
import { buildBundle } from '../../scripts/build-bundle.ts';

/** A spawned process of the benchmark (eap api, eap worker or the baseline server). */
export interface BenchProcess {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  /** What an EAP process wrote so far, stdout and stderr (empty for the baseline server). */
  output: () => string;
  stop(): Promise<void>;
}

async function waitHttp(url: string, child: ChildProcess, output: () => string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited early:\n${output()}`);
    if ((await fetch(url).catch(() => null))?.ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not come up:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  await exited(child);
  clearTimeout(timer);
}

/**
 * A node script of the benchmark (relative to bench/), started with `args` and `extraEnv`, as an
 * EAP process of kind `like` would be (its NODE_OPTIONS and node flags) when given; resolves
 * with the first line it prints, which it prints once it serves (a port, or "ready").
 */
async function spawnScript(
  relative: string,
  args: string[],
  like?: EapProcess,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; firstLine: string }> {
  const script = fileURLToPath(new URL(`../${relative}`, import.meta.url));
  const env = { ...process.env, ...(like === undefined ? {} : { NODE_OPTIONS: RECOMMENDED_NODE_OPTIONS[like] }), ...extraEnv };
  const flags = like === undefined ? [] : nodeCommandFlags(like);
  const child = spawn(process.execPath, [...flags, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(String(d).trim()));
    child.once('exit', () => reject(new Error(`${relative} exited`)));
  });
  return { child, firstLine };
}

/** A script's process as a BenchProcess, serving at `url` (none: '') with no admin port. */
const scriptProcess = ({ child }: { child: ChildProcess }, url: string): BenchProcess => ({
  child,
  url,
  adminUrl: '',
  output: () => '',
  stop: () => stopChild(child),
});

/**
 * The ingest server of the bare pipeline (bench/bare-pipeline/ingest.ts) alone, with the V8
 * settings of `eap api`. Its address goes in the environment, as EAP's: the CPU accounting finds
 * Redis by its address on command lines.
 */
async function spawnBareIngest(options: { redisUrl: string; projectId: string }): Promise<BenchProcess> {
  const ingest = await spawnScript('bare-pipeline/ingest.ts', [], 'api', { REDIS_URL: options.redisUrl, PROJECT_ID: options.projectId });
  return scriptProcess(ingest, `http://127.0.0.1:${ingest.firstLine}`);
}

/**
 * The bare pipeline (bench/bare-pipeline.ts): its ingest server and its writer, with the V8
 * settings of `eap api` and `eap worker`, on the given Redis and PostgreSQL.
 */
export async function spawnBarePipeline(options: {
  redisUrl: string;
  databaseUrl: string;
  projectId: string;
}): Promise<{ ingest: BenchProcess; writer: BenchProcess }> {
  const writer = scriptProcess(
    await spawnScript('bare-pipeline/writer.ts', [], 'worker', { REDIS_URL: options.redisUrl, DATABASE_URL: options.databaseUrl }),
    '',
  );
  return { ingest: await spawnBareIngest(options), writer };
}

/**
 * Which `eap` the benchmark runs: `bundle` is what the image runs (scripts/build-bundle.ts, built
 * afresh from the sources for each run), `sources` the TypeScript run by type stripping.
 */
export type EapBuild = 'bundle' | 'sources';
/** A build, or another bundle's bin/eap.js (one built from an earlier commit, for an A/B). */
export type EapProgram = EapBuild | { program: string };

/**
 * Private Redis (AOF everysec, as recommended for production) and PostgreSQL (durable default
 * settings) for one benchmark run, plus helpers to spawn `eap api` and `eap worker` against them
 * with production defaults and the recommended V8 heap settings. They run `options.eap` (the
 * bundle, as shipped, unless told otherwise); each spawn may name another (an A/B comparison).
 */
export async function startBenchStack(options: { eap?: EapBuild } = {}) {
  const binaries = await ensureBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'eap-bench-'));
  await chmod(dir, 0o755);
  const programs: Record<EapBuild, string> = { bundle: await buildBundle(join(dir, 'eap')), sources: EAP_BIN };
  const defaultBuild = options.eap ?? 'bundle';
  const [redis, postgres] = await Promise.all([startRedis({ dataDir: join(dir, 'redis') }), startPostgres({ dataDir: join(dir, 'pg') })]);
  await createMigrator(postgres.url).up();
  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };

  async function spawnApi(
    extra: Record<string, string> = {},
    build: EapProgram = defaultBuild,
    nodeFlags: readonly string[] = [],
  ): Promise<BenchProcess> {
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = spawnEap(
      ['api'],
      {
        ...env,
        NODE_OPTIONS: RECOMMENDED_NODE_OPTIONS.api,
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        // The rate limiter runs for every request as it does in production, with a bucket so large
        // (the highest setting) that one key's load never empties it.
        RATE_LIMIT_PER_SECOND: '10000000',
        RATE_LIMIT_BURST: '10000000',
        STREAM_BACKLOG_CAP: '50000000',
        ...extra,
      },
      typeof build === 'string' ? programs[build] : build.program,
      nodeFlags,
    );
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    await waitHttp(`${adminUrl}/readyz`, child, child.output, 'eap api');
    return { child, url: `http://127.0.0.1:${port}`, adminUrl, output: child.output, stop: () => stopChild(child) };
  }

  async function spawnWorker(
    extra: Record<string, string> = {},
    build: EapProgram = defaultBuild,
    nodeFlags: readonly string[] = [],
  ): Promise<BenchProcess> {
    const adminPort = await freePort();
    const child = spawnEap(
      ['worker'],
      { ...env, NODE_OPTIONS: RECOMMENDED_NODE_OPTIONS.worker, ADMIN_PORT: String(adminPort), ...extra },
      typeof build === 'string' ? programs[build] : build.program,
      nodeFlags,
    );
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    await waitHttp(`${adminUrl}/readyz`, child, child.output, 'eap worker');
    return { child, url: '', adminUrl, output: child.output, stop: () => stopChild(child) };
  }

  async function spawnBaseline(): Promise<BenchProcess> {
    const { child, firstLine } = await spawnScript('baseline-server.ts', ['0']);
    return { child, url: `http://127.0.0.1:${firstLine}`, adminUrl: '', output: () => '', stop: () => stopChild(child) };
  }

  /** The bare pipeline (bench/bare-pipeline.ts) on this stack's Redis and PostgreSQL. */
  const spawnBare = (projectId: string) => spawnBarePipeline({ redisUrl: redis.url, databaseUrl: postgres.url, projectId });

  return {
    redisUrl: redis.url,
    databaseUrl: postgres.url,
    /** Data directories, to find the server processes (CPU accounting). */
    /** Redis renames its process to `redis-server 127.0.0.1:<port>`. */
    redisProcessMatch: `127.0.0.1:${redis.port}`,
    postgresDir: postgres.dataDir,
    binaries,
    spawnApi,
    spawnWorker,
    spawnBaseline,
    spawnBarePipeline: spawnBare,
    /** The bare pipeline's ingest server alone, on this stack's Redis (the floor of the ingest phase). */
    spawnBareIngest: (projectId: string) => spawnBareIngest({ redisUrl: redis.url, projectId }),
    /** A project (with its keys) in the benchmark database. */
    async createProject(name: string): Promise<CreatedProject> {
      const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
      try {
        return await createProject(pool, name);
      } finally {
        await pool.end();
      }
    },
    async stop(): Promise<void> {
      await Promise.all([redis.stop(), postgres.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
export type BenchStack = Awaited<ReturnType<typeof startBenchStack>>;

/**
 * Starts processes concurrently; every one that started is in `into` (to be stopped) even when
 * another failed, and the first failure is thrown.
 */
export async function spawnAll(starts: (() => Promise<BenchProcess>)[], into: BenchProcess[]): Promise<BenchProcess[]> {
  const settled = await Promise.allSettled(starts.map((start) => start()));
  for (const s of settled) if (s.status === 'fulfilled') into.push(s.value);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<BenchProcess>).value);
}
