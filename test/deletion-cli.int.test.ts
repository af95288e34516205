import { describe, expect, it } from 'vitest';
import { runEap } from '@eap/local-services';
import { createProject, deletePerson } from '@eap/db';
import { DeletionReceipt } from '../services/api/src/deletion.schemas.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

// `eap person delete` and `eap project delete` against real PostgreSQL and Redis: the receipt is
// the last stdout line, unknown subjects exit 1, wrong usage exits 2.

const backends = useDatabaseAndRedis();

const lastJsonLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

async function seed(projectId: string, users: string[]): Promise<void> {
  const pool = backends.db.pool;
  await pool.query("SELECT eap_ensure_event_partition('2026-04-01'::date)");
  await pool.query(
    `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at)
     SELECT $1, gen_random_uuid()::text, 'open', u, '2026-04-01T10:00:00Z', now() FROM unnest($2::text[]) u, generate_series(1, 3)`,
    [projectId, users],
  );
}

const count = async (sql: string, params: unknown[]) => (await backends.db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

describe('eap person delete and eap project delete', () => {
  it('deletes a person and prints its receipt; again, a zero receipt; unknown ids exit 1', async () => {
    const project = await createProject(backends.db.pool, 'cli-person');
    await seed(project.project_id, ['cli-user', 'cli-other']);
    const env = { DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url };
    const args = ['person', 'delete', '--project', project.project_id, '--distinct-id', 'cli-user', '--wait', '1000'];

    const first = await runEap(args, env);
    expect(first.code, first.stderr).toBe(0);
    const receipt = DeletionReceipt.parse(lastJsonLine(first.stdout));
    // No consumer group exists on an empty Redis: nothing is in the streams, so nothing to wait for.
    expect(receipt).toMatchObject({
      kind: 'person',
      removed: { events: 3 },
      pipeline: { drained: true },
      dlq_entries: 0,
      dlq_unreadable: 0,
    });
    expect(first.stderr).toContain('removed 3 rows of events');
    expect(
      await count('SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND distinct_id = $2', [project.project_id, 'cli-user']),
    ).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [project.project_id])).toBe(3);

    const again = await runEap(args, env);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJsonLine(again.stdout).removed.events).toBe(0);

    const unknown = await runEap(['person', 'delete', '--project', project.project_id, '--distinct-id', 'nobody'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nothing known of that distinct id');
  });

  it('deletes a project: keys revoked, every row gone; wrong usage exits 2', async () => {
    const project = await createProject(backends.db.pool, 'cli-project');
    await seed(project.project_id, ['p1', 'p2']);
    const env = { DATABASE_URL: backends.db.url, REDIS_URL: backends.redis.url };
    const result = await runEap(['project', 'delete', project.project_id, '--key-cache-ttl', '0', '--batch-size', '2'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(DeletionReceipt.parse(lastJsonLine(result.stdout))).toMatchObject({
      kind: 'project',
      keys_revoked: 2,
      removed: { events: 6, api_keys: 2, projects: 1 },
    });
    expect(await count('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [project.project_id])).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM api_keys WHERE project_id = $1', [project.project_id])).toBe(0);
    // A person of a deleted project is not found.
    expect(await deletePerson(backends.db.pool, project.project_id, 'p1')).toEqual({ status: 'not_found', what: 'project' });

    const noRedis = await runEap(['project', 'delete', project.project_id, '--key-cache-ttl', '0'], { DATABASE_URL: backends.db.url });
    expect(noRedis.code, noRedis.stderr).toBe(0);
    expect(noRedis.stderr).toContain('REDIS_URL is not set');
    expect(lastJsonLine(noRedis.stdout)).toMatchObject({ pipeline: null, dlq_entries: null, dlq_unreadable: null, removed: { events: 0 } });

    const bad = await runEap(['project', 'delete', 'not-a-uuid'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^eap: <project-id> must be a project id/);
    expect((await runEap(['project', 'delete', '00000000-0000-4000-8000-000000000000', '--key-cache-ttl', '0'], env)).code).toBe(1);
    expect((await runEap(['person', 'delete', '--project', project.project_id], env)).code).toBe(2);
  });
});
