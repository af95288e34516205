// `make dev`: the whole stack on one machine, in the foreground, until Ctrl-C.
// With a Docker engine it hands over to `docker compose up`; otherwise it starts private Redis
// and PostgreSQL servers from the system's binaries under .eap/dev/ (kept between runs), migrates,
// makes sure a demo project exists, prints its write key and a curl example, and runs the API and
// the worker.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger, parseEnv } from '@eap/core';
import { createMigrator, createProject, ensureEventPartitions, type CreatedProject } from '@eap/db';
import { ApiConfigSchema, createApiServer } from '@eap/api';
import { createWorker, WorkerConfigSchema } from '@eap/worker';
import { startLocalStack } from '@eap/local-services';
import { readImagesEnv } from './containers/images.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const devDir = `${root}.eap/dev`;
const demoFile = `${devDir}/demo-project.json`;
/** The dev stack's admin token (POST /v1/projects, `make seed-start`), made once and kept. */
const adminTokenFile = `${devDir}/admin-token`;
const DAY = 86_400_000;

function dockerEngineAvailable(): boolean {
  if (process.env.EAP_DEV_NO_DOCKER === '1') return false;
  const info = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
  const compose = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 5000 });
  return info.status === 0 && compose.status === 0;
}

async function runWithCompose(): Promise<void> {
  // The base images chosen for this machine (local stand-ins where no registry answers).
  if (Object.keys(readImagesEnv()).length === 0) {
    const bases = spawnSync(process.execPath, [`${root}scripts/containers/images.ts`, 'bases'], { stdio: 'inherit' });
    if (bases.status !== 0) process.exit(1);
  }
  const env = { ...process.env, ...readImagesEnv() };
  const compose = (args: string[], capture = false) =>
    spawnSync('docker', ['compose', ...args], {
      cwd: root,
      env,
      stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
      encoding: 'utf8',
    });
  console.log('Docker engine found: running the stack with docker compose');
  if (compose(['up', '--build', '--detach', '--wait', 'api']).status !== 0) process.exit(1);
  mkdirSync(devDir, { recursive: true });
  const keysFile = `${devDir}/demo-project.compose.json`;
  if (!existsSync(keysFile)) {
    const created = compose(['run', '--rm', '--no-deps', 'migrate', 'project', 'create', '--name', 'demo'], true);
    if (created.status !== 0) process.exit(1);
    writeFileSync(keysFile, created.stdout.trim().split('\n').at(-1) ?? '{}', { mode: 0o600 });
  }
  const project = JSON.parse(readFileSync(keysFile, 'utf8')) as CreatedProject;
  printBanner({
    port: 8000,
    adminPort: 9464,
    workerAdminPort: 9465,
    redisUrl: 'redis://redis:6379/0 (inside compose)',
    databaseUrl: 'postgres://eap:eap@postgres:5432/eap (inside compose)',
    project,
  });
  const logs = spawn('docker', ['compose', 'logs', '--follow', 'api'], { cwd: root, env, stdio: 'inherit' });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  logs.kill('SIGTERM');
  compose(['stop']);
}

function printBanner(s: {
  port: number;
  adminPort: number;
  workerAdminPort: number;
  redisUrl: string;
  databaseUrl: string;
  project: CreatedProject;
}): void {
  console.log(`
EAP is running.
  API            http://127.0.0.1:${s.port}   (docs: http://127.0.0.1:${s.port}/docs)
  API admin      http://127.0.0.1:${s.adminPort}/metrics  /livez  /readyz
  worker admin   http://127.0.0.1:${s.workerAdminPort}/metrics  /livez  /readyz
  REDIS_URL      ${s.redisUrl}
  DATABASE_URL   ${s.databaseUrl}
  demo project   ${s.project.project_id}
  write key      ${s.project.write_key}
  read key       ${s.project.read_key}

Try it:
  curl -s -X POST http://127.0.0.1:${s.port}/v1/batch \\
    -H 'Authorization: Bearer ${s.project.write_key}' -H 'Content-Type: application/json' \\
    -d '{"events":[{"event":"page_view","distinct_id":"user-1","properties":{"path":"/"}}]}'

Events land in PostgreSQL table "events" within a second (psql "$DATABASE_URL").
Simulated traffic: make seed-start (and make seed-stop).
Ctrl-C stops everything.
`);
}

async function demoProject(databaseUrl: string): Promise<CreatedProject> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    if (existsSync(demoFile)) {
      const saved = JSON.parse(readFileSync(demoFile, 'utf8')) as CreatedProject;
      const { rowCount } = await pool.query('SELECT 1 FROM projects WHERE id = $1', [saved.project_id]);
      if (rowCount === 1) return saved;
    }
    const created = await createProject(pool, 'demo');
    // Keys are shown only once; the dev stack keeps the demo project's keys in a git-ignored file.
    writeFileSync(demoFile, JSON.stringify(created, null, 2), { mode: 0o600 });
    return created;
  } finally {
    await pool.end();
  }
}

async function runLocally(): Promise<void> {
  mkdirSync(devDir, { recursive: true });
  console.log(`starting private Redis and PostgreSQL under ${devDir} ...`);
  // The same memory ceiling as docker-compose.yml: Redis refuses writes (503) rather than grow without bound.
  const stack = await startLocalStack({ rootDir: devDir, redisMaxMemory: '1gb' });
  let stopping = false;
  const stopStack = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
  };
  try {
    const migrated = await createMigrator(stack.databaseUrl).up();
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 1 });
    await ensureEventPartitions(pool, new Date(Date.now() - DAY), new Date(Date.now() + 7 * DAY));
    await pool.end();
    console.log(`migrations: ${migrated.length} applied`);
    const project = await demoProject(stack.databaseUrl);
    if (!existsSync(adminTokenFile)) writeFileSync(adminTokenFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
    const adminToken = process.env.EAP_ADMIN_TOKEN ?? readFileSync(adminTokenFile, 'utf8').trim();
    const env = { ...process.env, DATABASE_URL: stack.databaseUrl, REDIS_URL: stack.redisUrl, EAP_ADMIN_TOKEN: adminToken };
    const config = parseEnv(ApiConfigSchema, env);
    const api = await createApiServer(config, createLogger({ level: config.LOG_LEVEL, name: 'eap-api' }));
    // The worker runs in the same process here; its admin port sits next to the API's.
    const workerConfig = parseEnv(WorkerConfigSchema, {
      ...env,
      ADMIN_PORT: process.env.WORKER_ADMIN_PORT ?? String(config.ADMIN_PORT + 1),
    });
    const worker = await createWorker(workerConfig, createLogger({ level: workerConfig.LOG_LEVEL, name: 'eap-worker' }));
    const { port, adminPort } = await api.start();
    const { adminPort: workerAdminPort } = await worker.start();
    printBanner({ port, adminPort, workerAdminPort, redisUrl: stack.redisUrl, databaseUrl: stack.databaseUrl, project });
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.log(`\n${signal}: stopping ...`);
    await api.stop();
    await worker.stop();
  } finally {
    await stopStack();
  }
}

if (dockerEngineAvailable()) await runWithCompose();
else await runLocally();
