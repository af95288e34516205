import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { exited, freePort, runEap, spawnEap } from '@eap/local-services';
import { createTestDatabase, useDatabaseAndRedis } from './support/test-database.ts';
import { spawnApi } from './support/pipeline-processes.ts';
import { waitFor } from './support/test-api.ts';

const backends = useDatabaseAndRedis();

const lastJsonLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('eap project and key commands', () => {
  it('creates a project whose last output line is JSON with its keys, lists it without keys, and rotates keys', async () => {
    const create = await runEap(['project', 'create', '--name', 'Shop'], { DATABASE_URL: backends.db.url });
    expect(create.code, create.stderr).toBe(0);
    const created = lastJsonLine(create.stdout);
    expect(Object.keys(created).sort()).toEqual(['project_id', 'read_key', 'write_key']);
    expect(created.write_key).toMatch(/^eap_w_/);
    expect(created.read_key).toMatch(/^eap_r_/);

    const list = await runEap(['project', 'list'], { DATABASE_URL: backends.db.url });
    expect(list.code).toBe(0);
    const projects = JSON.parse(list.stdout);
    const shop = projects.find((p: { project_id: string }) => p.project_id === created.project_id);
    expect(shop.name).toBe('Shop');
    expect(shop.write_key_prefixes).toEqual([created.write_key.slice(0, 12)]);
    expect(list.stdout).not.toContain(created.write_key);

    const rotate = await runEap(['key', 'rotate', '--project', created.project_id, '--kind', 'write'], { DATABASE_URL: backends.db.url });
    expect(rotate.code, rotate.stderr).toBe(0);
    const rotated = lastJsonLine(rotate.stdout);
    expect(rotated.key).toMatch(/^eap_w_/);
    expect(rotated.key).not.toBe(created.write_key);
    const { rows } = await backends.db.pool.query(
      "SELECT count(*) FILTER (WHERE revoked_at IS NULL)::int AS active, count(*) FILTER (WHERE revoked_at IS NOT NULL)::int AS revoked FROM api_keys WHERE project_id = $1 AND kind = 'write'",
      [created.project_id],
    );
    expect(rows[0]).toEqual({ active: 1, revoked: 1 });
  });

  it('explains wrong usage with exit code 2 and an unknown project with exit code 1', async () => {
    const noName = await runEap(['project', 'create'], { DATABASE_URL: backends.db.url });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/^eap: missing --name <name>\n\nUsage: eap project create --name <name>\n/);
    expect((await runEap(['bogus'], {})).code).toBe(2);
    const missing = await runEap(['key', 'rotate', '--project', '00000000-0000-4000-8000-000000000000'], { DATABASE_URL: backends.db.url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no project');
    const help = await runEap(['help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('migrate up');
  });
});

describe('eap against a PostgreSQL that refuses', () => {
  it('says in one line, exit code 1, that the password is wrong or the schema is missing', async () => {
    const wrongPassword = new URL(backends.db.url);
    wrongPassword.password = 'not-the-password';
    const refused = await runEap(['project', 'list'], { DATABASE_URL: wrongPassword.toString() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^eap: PostgreSQL: password authentication failed for user "[^"]+" \(SQLSTATE 28P01\)\n$/);

    const empty = await createTestDatabase();
    try {
      const unmigrated = await runEap(['project', 'list'], { DATABASE_URL: empty.url });
      expect(unmigrated.code).toBe(1);
      expect(unmigrated.stderr).toMatch(
        /^eap: PostgreSQL: relation "\w+" does not exist \(SQLSTATE 42P01; has `eap migrate up` run\?\)\n$/,
      );
    } finally {
      await empty.drop();
    }
  });
});

describe('eap api', () => {
  it('lists every bad variable and exits 1 on invalid configuration', async () => {
    const run = await runEap(['api'], { REDIS_URL: 'http://nope', PORT: 'eighty', STREAM_SHARDS: '0', EAP_ADMIN_TOKEN: 'short' });
    expect(run.code).toBe(1);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'STREAM_SHARDS', 'EAP_ADMIN_TOKEN']) expect(run.stderr).toContain(name);
    expect(run.stderr).not.toMatch(/\n\s+at /); // a list of problems, not a stack trace
  });

  it('serves, then on SIGTERM finishes in-flight requests, refuses new ones and exits 0 within 10 s', async () => {
    const project = lastJsonLine((await runEap(['project', 'create', '--name', 'shutdown'], { DATABASE_URL: backends.db.url })).stdout);
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = spawnEap(['api'], {
      DATABASE_URL: backends.db.url,
      REDIS_URL: backends.redis.url,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: '127.0.0.1',
    });
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => null))?.status === 200,
        20_000,
        'eap api ready',
      );
      const body = JSON.stringify({ events: [{ event: 'in-flight', distinct_id: 'u' }] });
      // An in-flight request: headers and half the body now, the rest after SIGTERM.
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/v1/batch',
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              authorization: `Bearer ${project.write_key}`,
            },
          },
          (res) => {
            let data = '';
            res.on('data', (d) => (data += d));
            res.on('end', () => resolve({ status: res.statusCode!, body: data }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 300);
        }, 200);
      });
      const result = await response;
      const started = Date.now();
      expect(result.status).toBe(202);
      expect(JSON.parse(result.body).accepted).toBe(1);
      const exit = await exited(child);
      expect(exit.code, child.output()).toBe(0);
      // The contract (exit within 10 s of SIGTERM), not a performance figure.
      expect(Date.now() - started).toBeLessThan(10_000);
      await expect(fetch(`http://127.0.0.1:${port}/v1/batch`, { method: 'POST' })).rejects.toThrow();
      expect(
        (await backends.redis.client.xlen('eap:events:{0}')) +
          (await backends.redis.client.xlen('eap:events:{1}')) +
          (await backends.redis.client.xlen('eap:events:{2}')) +
          (await backends.redis.client.xlen('eap:events:{3}')),
      ).toBe(1);
      // Logs are JSON and never contain keys.
      expect(child.output()).not.toContain(project.write_key);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('eap api with SHUTDOWN_DELAY_MS (as the operator runs it)', () => {
  it('keeps accepting after SIGTERM, not ready and closing each kept-alive connection, then exits 0', async () => {
    const project = lastJsonLine((await runEap(['project', 'create', '--name', 'delay'], { DATABASE_URL: backends.db.url })).stdout);
    const api = await spawnApi({ DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url, SHUTDOWN_DELAY_MS: '3000' });
    const readiness = async () => (await fetch(`${api.adminUrl}/readyz`).catch(() => null))?.status;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    /** POST one event on the kept-alive connection; the status and the Connection header. */
    const send = () =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const body = JSON.stringify({ events: [{ event: 'during-delay', distinct_id: 'u' }] });
        const req = request(
          `${api.url}/v1/batch`,
          { method: 'POST', agent, headers: { authorization: `Bearer ${project.write_key}`, 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    try {
      await waitFor(async () => (await readiness()) === 200, 20_000, 'eap api ready');
      expect(await send()).toEqual({ status: 202, connection: 'keep-alive' });
      api.child.kill('SIGTERM');
      await waitFor(async () => (await readiness()) === 503, 2_000, 'not ready');
      // Within the delay: served, on the connection kept from before, which is then closed.
      expect(await send()).toEqual({ status: 202, connection: 'close' });
      expect(await send()).toEqual({ status: 202, connection: 'close' });
      expect((await exited(api.child)).code, api.child.output()).toBe(0);
    } finally {
      agent.destroy();
      await api.kill();
    }
  });
});

describe('eap worker and eap dlq', () => {
  it('lists every bad worker variable and exits 1', async () => {
    const run = await runEap(['worker'], { DATABASE_URL: 'postgres://x@h/db', WORKER_BATCH_SIZE: '0', MAX_DELIVERIES: 'many' });
    expect(run.code).toBe(1);
    for (const name of ['REDIS_URL', 'WORKER_BATCH_SIZE', 'MAX_DELIVERIES']) expect(run.stderr).toContain(name);
  });

  it('stores events, then exits 0 on SIGTERM', async () => {
    const project = lastJsonLine((await runEap(['project', 'create', '--name', 'worker-cli'], { DATABASE_URL: backends.db.url })).stdout);
    const adminPort = await freePort();
    await backends.redis.client.xadd(
      'eap:events:{0}',
      '*',
      'v',
      '1',
      'data',
      JSON.stringify({
        project_id: project.project_id,
        event_id: 'cli-1',
        event: 'e',
        distinct_id: 'u',
        timestamp: new Date().toISOString(),
        client_timestamp: null,
        sent_at: null,
        received_at: new Date().toISOString(),
        session_id: null,
        properties: {},
        context: null,
      }),
    );
    const child = spawnEap(['worker'], {
      DATABASE_URL: backends.db.url,
      REDIS_URL: backends.redis.url,
      ADMIN_PORT: String(adminPort),
      HOST: '127.0.0.1',
    });
    try {
      await waitFor(
        async () => (await backends.db.pool.query('SELECT 1 FROM events WHERE project_id = $1', [project.project_id])).rowCount === 1,
        20_000,
        'event stored by eap worker',
      );
      expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(200);
      child.kill('SIGTERM');
      const exit = await exited(child);
      expect(exit.code, child.output()).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('lists, shows, replays (re-validating) and purges dead letters', async () => {
    await backends.redis.client.del('eap:dlq');
    const now = new Date().toISOString();
    const repaired = JSON.stringify({
      project_id: '0195f0a0-0000-7000-8000-000000000001',
      event_id: 'fixed-1',
      event: 'e',
      distinct_id: 'u',
      timestamp: now,
      client_timestamp: null,
      sent_at: null,
      received_at: now,
      session_id: null,
      properties: {},
      context: null,
    });
    const deadLetter = (reason: string, data: string) =>
      backends.redis.client.xadd(
        'eap:dlq',
        '*',
        'reason',
        reason,
        'error',
        'was bad',
        'stream',
        'eap:events:{2}',
        'shard',
        '2',
        'v',
        '1',
        'data',
        data,
      );
    const goodId = await deadLetter('db_rejected', repaired);
    const badId = await deadLetter('decode_error', '{"x":1}');
    const env = { REDIS_URL: backends.redis.url };
    expect((await runEap(['dlq', 'count'], env)).stdout.trim()).toBe('2');
    const listed = (await runEap(['dlq', 'list', '--limit', '1'], env)).stdout.trim().split('\n');
    expect(listed).toHaveLength(1);
    expect(JSON.parse(listed[0]!)).toMatchObject({ id: goodId, reason: 'db_rejected', stream: 'eap:events:{2}', shard: 2 });
    const shown = JSON.parse((await runEap(['dlq', 'show', badId!], env)).stdout);
    expect(shown.fields.reason).toBe('decode_error');
    expect((await runEap(['dlq', 'show', '1-1'], env)).code).toBe(1);
    expect((await runEap(['dlq', 'replay'], env)).code).toBe(2);

    const before = await backends.redis.client.xlen('eap:events:{2}');
    const replay = await runEap(['dlq', 'replay', '--all'], env);
    // The repaired entry goes back to its stream; the one that still does not decode stays.
    expect(replay.code).toBe(1);
    const result = JSON.parse(replay.stdout.trim());
    expect(result.replayed).toBe(1);
    expect(result.skipped).toEqual([{ id: badId, error: expect.stringContaining('project_id') }]);
    expect(await backends.redis.client.xlen('eap:events:{2}')).toBe(before + 1);
    expect(await backends.redis.client.xlen('eap:dlq')).toBe(1);

    expect(JSON.parse((await runEap(['dlq', 'purge', '--older-than', '1h'], env)).stdout)).toEqual({ purged: 0 });
    expect((await runEap(['dlq', 'purge'], env)).code).toBe(2);
    await new Promise((r) => setTimeout(r, 5));
    expect(JSON.parse((await runEap(['dlq', 'purge', '--older-than', '1ms'], env)).stdout)).toEqual({ purged: 1 });
    expect(await backends.redis.client.xlen('eap:dlq')).toBe(0);
  });
});
