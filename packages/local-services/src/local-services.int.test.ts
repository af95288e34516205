import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_AOF_REWRITE_MIN_SIZE } from '@eap/core';
import { ensureBinaries, freePort, MissingBinariesError, pingRedis, startLocalStack, startPostgres, startRedis } from './index.ts';

const TIMEOUT = { timeout: 60_000 };
const isRoot = process.getuid?.() === 0;

/** Encodes a command in RESP, sends it over a fresh socket and returns the raw reply. */
function redisCommand(port: number, ...args: string[]): Promise<string> {
  const request = `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis reply timed out')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      const headerEnd = reply.indexOf('\r\n');
      if (headerEnd === -1) return;
      const length = reply.startsWith('$') ? Number(reply.slice(1, headerEnd)) : -1;
      if (length < 0 || reply.length >= headerEnd + 2 + length + 2) {
        socket.end();
        resolve(reply);
      }
    });
  });
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/**
 * Runs startLocalStack in a separate Node process that prints the ports, then either calls
 * process.exit(0) or waits (to be sent a signal) — without stopping the servers.
 */
function startStackInChildProcess(rootDir: string, ending: 'process.exit' | 'SIGTERM') {
  const indexUrl = new URL('./index.ts', import.meta.url).href;
  const script = `
    import { startLocalStack } from ${JSON.stringify(indexUrl)};
    const stack = await startLocalStack({ rootDir: ${JSON.stringify(rootDir)}, fast: true });
    console.log(JSON.stringify({ redis: stack.redis.port, postgres: stack.postgres.port }));
    if (${JSON.stringify(ending)} === 'process.exit') process.exit(0);
    setInterval(() => {}, 1_000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ports = new Promise<{ redis: number; postgres: number }>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line !== undefined) resolve(JSON.parse(line) as { redis: number; postgres: number });
    });
    void exited.then(() => reject(new Error(`child exited before printing ports: ${output}`)));
  });
  return { process: child, ports, exited };
}

/**
 * These servers are what `make dev` (without a Docker engine) and the benchmarks run; the other
 * tests use containers. `make test` installs the binaries first (`make services`); run on its own on
 * a machine without them (this test does not install them), it skips them.
 */
const binaries = await ensureBinaries({ install: false }).catch((error: unknown) => {
  if (error instanceof MissingBinariesError) return undefined;
  throw error;
});
const withoutBinaries = binaries === undefined;
let root: string;

function psql(port: number, sql: string): Promise<{ code: number; output: string }> {
  const local = binaries && join(binaries.postgresBin, 'psql');
  const command = local && existsSync(local) ? local : 'psql';
  return run(command, ['-h', '127.0.0.1', '-p', String(port), '-U', 'eap', '-d', 'postgres', '-Atc', sql]);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'eap-local-services-test-'));
  // mkdtemp makes a 0700 directory, which the postgres user (used when root) cannot traverse.
  await chmod(root, 0o755);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('freePort', () => {
  it('returns a loopback port nobody listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await pingRedis(port)).toBe(false);
  });
});

describe.skipIf(withoutBinaries)('startRedis', () => {
  it('serves, keeps data across stop/start (AOF) and recovers from kill', TIMEOUT, async () => {
    const dataDir = join(root, 'redis');
    const redis = await startRedis({ dataDir });
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(redis.dataDir).toBe(dataDir);
      expect(await redisCommand(redis.port, 'PING')).toBe('+PONG\r\n');
      expect(await redisCommand(redis.port, 'CONFIG', 'GET', 'maxmemory-policy')).toContain('noeviction');
      const rewriteMiB = Number(/^(\d+)mb$/.exec(REDIS_AOF_REWRITE_MIN_SIZE)![1]);
      expect(await redisCommand(redis.port, 'CONFIG', 'GET', 'auto-aof-rewrite-min-size')).toContain(`\r\n${rewriteMiB * 1024 * 1024}\r\n`);
      expect(await redisCommand(redis.port, 'SET', 'greeting', 'hello')).toBe('+OK\r\n');

      await redis.stop();
      await redis.stop(); // idempotent
      expect(await pingRedis(redis.port)).toBe(false);
      expect(await readdir(join(dataDir, 'appendonlydir'))).not.toHaveLength(0);

      await redis.start();
      expect(await redisCommand(redis.port, 'GET', 'greeting')).toBe('$5\r\nhello\r\n');

      // Written to the AOF before the reply, so it also survives a SIGKILL of the process.
      expect(await redisCommand(redis.port, 'SET', 'after', 'crash')).toBe('+OK\r\n');
      await redis.kill();
      expect(await pingRedis(redis.port)).toBe(false);
      await redis.start();
      expect(await redisCommand(redis.port, 'GET', 'greeting')).toBe('$5\r\nhello\r\n');
      expect(await redisCommand(redis.port, 'GET', 'after')).toBe('$5\r\ncrash\r\n');
    } finally {
      await redis.stop();
    }
    expect(await pingRedis(redis.port)).toBe(false);
  });

  it('fails with the log tail when the port is taken', TIMEOUT, async () => {
    const first = await startRedis({ dataDir: join(root, 'redis-a') });
    try {
      await expect(startRedis({ dataDir: join(root, 'redis-b'), port: first.port })).rejects.toThrow(/Address already in use/);
    } finally {
      await first.stop();
    }
  });
});

describe.skipIf(withoutBinaries)('startPostgres', () => {
  it('serves SQL, keeps data across stop/start and restarts after kill', TIMEOUT, async () => {
    const dataDir = join(root, 'postgres');
    const postgres = await startPostgres({ dataDir, fast: true });
    try {
      expect(postgres.url).toBe(`postgres://eap@127.0.0.1:${postgres.port}/postgres`);
      expect(postgres.dataDir).toBe(dataDir);
      expect(await psql(postgres.port, 'select 1')).toEqual({ code: 0, output: '1' });
      expect((await psql(postgres.port, 'show max_connections')).output).toBe('200');
      expect((await psql(postgres.port, 'show fsync')).output).toBe('off');
      const created = await psql(postgres.port, 'create table t (v int); insert into t values (42)');
      expect(created.code).toBe(0);

      await postgres.stop();
      await postgres.stop(); // idempotent
      expect((await psql(postgres.port, 'select 1')).code).not.toBe(0);
      await postgres.start();
      expect(await psql(postgres.port, 'select v from t')).toEqual({ code: 0, output: '42' });

      await postgres.kill();
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(true); // stale after SIGKILL
      expect((await psql(postgres.port, 'select 1')).code).not.toBe(0);
      await postgres.start();
      expect(await psql(postgres.port, 'select v from t')).toEqual({ code: 0, output: '42' });
    } finally {
      await postgres.stop();
    }
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it.runIf(isRoot)('as root, falls back to a temp dir when the postgres user cannot reach dataDir', TIMEOUT, async () => {
    const privateDir = join(root, 'private');
    await mkdir(privateDir, { mode: 0o700 });
    await chmod(privateDir, 0o700);
    const requested = join(privateDir, 'postgres');
    const postgres = await startPostgres({ dataDir: requested, fast: true });
    try {
      expect(postgres.dataDir).not.toBe(requested);
      expect(postgres.dataDir.startsWith(tmpdir())).toBe(true);
      expect(await psql(postgres.port, 'select 1')).toEqual({ code: 0, output: '1' });
    } finally {
      await postgres.stop();
      await rm(postgres.dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(withoutBinaries)('startLocalStack', () => {
  it('starts Redis and PostgreSQL together and stops both', TIMEOUT, async () => {
    const stack = await startLocalStack({ rootDir: join(root, 'stack'), fast: true });
    try {
      expect(stack.redisUrl).toBe(stack.redis.url);
      expect(stack.databaseUrl).toBe(stack.postgres.url);
      expect(await pingRedis(stack.redis.port)).toBe(true);
      expect(await psql(stack.postgres.port, 'select 1')).toEqual({ code: 0, output: '1' });
    } finally {
      await stack.stop();
    }
    expect(await pingRedis(stack.redis.port)).toBe(false);
    expect((await psql(stack.postgres.port, 'select 1')).code).not.toBe(0);
  });

  it.each(['process.exit', 'SIGTERM'] as const)(
    'kills the servers when the Node process ends by %s without stopping them',
    TIMEOUT,
    async (ending) => {
      const child = startStackInChildProcess(join(root, `orphan-${ending}`), ending);
      const ports = await child.ports;
      if (ending === 'SIGTERM') {
        // (With process.exit the child may already be gone: the ports were printed once up.)
        expect(await pingRedis(ports.redis)).toBe(true);
        child.process.kill('SIGTERM');
      }
      const exit = await child.exited;
      // The signal is re-raised after cleaning up, so the default outcome is unchanged.
      const expected = ending === 'SIGTERM' ? { code: null, signal: 'SIGTERM' } : { code: 0, signal: null };
      expect(exit).toEqual(expected);
      expect(await pingRedis(ports.redis)).toBe(false);
      expect((await psql(ports.postgres, 'select 1')).code).not.toBe(0);
    },
  );
});
