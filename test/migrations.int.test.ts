import { cp, mkdtemp, rm, writeFile, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createMigrator, ensureEventPartitions, expectedSchemaVersion, loadMigrations } from '@eap/db';
import { eventSource } from '../services/api/src/query/event-source.ts';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { runEap } from '@eap/local-services';
import { spawnApi } from './support/pipeline-processes.ts';
import { waitFor } from './support/test-api.ts';
import { useSharedRedis } from './support/test-redis.ts';

const MIGRATIONS = fileURLToPath(new URL('../packages/db/migrations/', import.meta.url));
const dbs: TestDatabase[] = [];
async function freshDb(migrate = false) {
  const db = await createTestDatabase({ migrate });
  dbs.push(db);
  return db;
}
afterAll(async () => {
  await Promise.all(dbs.map((db) => db.drop()));
});

describe('migrator', () => {
  it('applies every migration once; a second run applies nothing', async () => {
    const db = await freshDb();
    const migrator = createMigrator(db.url);
    const first = await migrator.up();
    expect(first.map((m) => m.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrator.up()).toEqual([]);
    const { rows } = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(first.map((m) => m.version));
    expect((await migrator.status()).every((s) => s.state === 'applied')).toBe(true);
  });

  it('is safe when several processes run `eap migrate up` at the same moment', async () => {
    const db = await freshDb();
    const runs = await Promise.all(Array.from({ length: 4 }, () => runEap(['migrate', 'up'], { DATABASE_URL: db.url })));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    // Exactly one process applied each migration; the others found the database up to date.
    const applied = runs.filter((r) => r.stdout.includes('applied 0001_init')).length;
    expect(applied).toBe(1);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0].n).toBe(expectedSchemaVersion());
    const status = await runEap(['migrate', 'status'], { DATABASE_URL: db.url });
    expect(status.stdout).toContain('up to date');
  });

  it('refuses to run when an applied migration file was edited', async () => {
    const db = await freshDb();
    const dir = await mkdtemp(join(tmpdir(), 'eap-migrations-'));
    try {
      await cp(MIGRATIONS, dir, { recursive: true });
      await createMigrator(db.url, loadMigrations(dir)).up();
      const file = join(dir, (await readdir(dir))[0]!);
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- an innocent edit\n`);
      await expect(createMigrator(db.url, loadMigrations(dir)).up()).rejects.toThrow(/was edited after it was applied/);
      await expect(createMigrator(db.url, loadMigrations(dir)).status()).rejects.toThrow(/was edited/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('records with each migration the oldest code it works with: the previous release unless it says otherwise', async () => {
    const db = await freshDb(true);
    const { rows } = await db.pool.query('SELECT version, compatible_with FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(loadMigrations().map((m) => ({ version: m.version, compatible_with: m.compatibleWith })));
    expect(rows.every((r) => r.compatible_with === r.version - 1)).toBe(true);
    // The previous release's worker statement still works after 0003 dropped the primary key of
    // events (ON CONFLICT DO NOTHING needs no unique index).
    const {
      rows: [project],
    } = await db.pool.query("INSERT INTO projects (name) VALUES ('previous-release') RETURNING id");
    await ensureEventPartitions(db.pool, new Date(), new Date());
    const previousWorker = `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at, properties)
      SELECT $1::uuid, 'e-1', 'e', 'u', now(), now(), '{}'::jsonb ORDER BY 1 ON CONFLICT DO NOTHING`;
    expect((await db.pool.query(previousWorker, [project.id])).rowCount).toBe(1);
  });

  it('refuses a database that is newer than the code', async () => {
    const db = await freshDb(true);
    await db.pool.query("INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'from_the_future', 'x')");
    await expect(createMigrator(db.url).up()).rejects.toThrow(/newer than the code/);
    const cli = await runEap(['migrate', 'up'], { DATABASE_URL: db.url });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/newer than the code/);
  });

  it('rolls back a failing migration entirely and records nothing', async () => {
    const db = await freshDb();
    const dir = await mkdtemp(join(tmpdir(), 'eap-migrations-'));
    try {
      await cp(MIGRATIONS, dir, { recursive: true });
      const next = String(expectedSchemaVersion() + 1).padStart(4, '0');
      await writeFile(
        join(dir, `${next}_broken.sql`),
        '-- broken on purpose\nCREATE TABLE half_done (id int);\nSELECT no_such_function();\n',
      );
      await expect(createMigrator(db.url, loadMigrations(dir)).up()).rejects.toThrow(/broken\) failed/);
      const { rows } = await db.pool.query(
        "SELECT to_regclass('public.half_done') AS t, (SELECT max(version) FROM schema_migrations) AS v",
      );
      expect(rows[0].t).toBeNull();
      expect(rows[0].v).toBe(expectedSchemaVersion());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('schema', () => {
  it('partitions events by day, creating partitions on demand and concurrently without errors', async () => {
    const db = await freshDb(true);
    const day = new Date('2031-05-17T00:00:00Z');
    const clients = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      }),
    );
    try {
      await Promise.all(clients.map((c) => c.query('SELECT eap_ensure_event_partition($1::date)', ['2031-05-17'])));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    expect(await ensureEventPartitions(db.pool, day, new Date('2031-05-19T00:00:00Z'))).toBe(3);
    const { rows } = await db.pool.query(
      "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass AND c.relname LIKE 'events_p2031%' ORDER BY 1",
    );
    expect(rows.map((r) => r.relname)).toEqual(['events_p20310517', 'events_p20310518', 'events_p20310519']);
    expect(rows[0].bound).toContain('2031-05-17');
  });

  it('keeps one event id per project in event_ids, with or without its time, and events has the query indexes and no other unique index', async () => {
    const db = await freshDb(true);
    const {
      rows: [project],
    } = await db.pool.query("INSERT INTO projects (name) VALUES ('p') RETURNING id");
    const insert = `INSERT INTO event_ids (project_id, event_id, "timestamp") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`;
    await db.pool.query(insert, [project.id, 'id-1', '2030-01-01T10:00:00Z']);
    await db.pool.query(insert, [project.id, 'id-1', '2030-01-02T10:00:00Z']);
    await db.pool.query(insert, [project.id, 'id-2', '2030-01-01T10:00:00Z']);
    // Writers since 0008 store the key alone; those of the release before still write the time.
    await db.pool.query('INSERT INTO event_ids (project_id, event_id) VALUES ($1, $2)', [project.id, 'id-3']);
    const { rows } = await db.pool.query('SELECT event_id, "timestamp" FROM event_ids ORDER BY 1');
    expect(rows.map((r) => [r.event_id, r.timestamp?.toISOString() ?? null])).toEqual([
      ['id-1', '2030-01-01T10:00:00.000Z'],
      ['id-2', '2030-01-01T10:00:00.000Z'],
      ['id-3', null],
    ]);
    const idx = await db.pool.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname");
    const defs = idx.rows.map((r) => r.indexdef).join('\n');
    expect(defs).toMatch(/\(project_id, event, "timestamp"\)/);
    expect(defs).toMatch(/\(project_id, distinct_id, "timestamp"\)/);
    expect(defs).not.toMatch(/UNIQUE/);
  });

  it('lets a funnel step that leaves bot events out read the index alone (is_bot is in the covering index)', async () => {
    const db = await freshDb(true);
    const {
      rows: [project],
    } = await db.pool.query("INSERT INTO projects (name) VALUES ('p') RETURNING id");
    await ensureEventPartitions(db.pool, new Date('2030-01-01T00:00:00Z'), new Date('2030-01-01T00:00:00Z'));
    await db.pool.query(
      `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at, is_bot)
       SELECT $1, 'e' || i, CASE WHEN i % 3 = 0 THEN 'purchase' ELSE 'page_view' END, 'u' || (i % 50),
              '2030-01-01T00:00:00Z'::timestamptz + i * interval '1 second', now(), i % 10 = 0
       FROM generate_series(1, 3000) i`,
      [project.id],
    );
    await db.pool.query('ANALYZE events');
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      // Index scans only (enable_indexscan would turn off index-only scans too). PostgreSQL plans
      // an index as an index-only scan whenever it covers every column the scan needs.
      await client.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');
      const step = `SELECT e.distinct_id, e."timestamp" FROM ${eventSource({ includeBots: false }, 'e')}
        WHERE e.project_id = $1 AND e.event = 'purchase' AND e."timestamp" >= '2030-01-01' AND e."timestamp" < '2030-01-02'`;
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${step}`, [project.id]);
      const plan = JSON.stringify(rows[0]['QUERY PLAN']);
      expect(plan).toContain('"Node Type":"Index Only Scan"');
      expect(plan).toContain('"Filter":"(NOT is_bot)"');
      const counted = await client.query(`SELECT count(*)::int AS n FROM (${step}) s`, [project.id]);
      expect(counted.rows[0].n).toBe(900);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('stores only hashes of API keys', async () => {
    const db = await freshDb(true);
    const run = await runEap(['project', 'create', '--name', 'hashes'], { DATABASE_URL: db.url });
    const created = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    const { rows } = await db.pool.query('SELECT key_hash, key_prefix FROM api_keys');
    const everything = JSON.stringify(rows.map((r) => [r.key_hash.toString('hex'), r.key_prefix]));
    expect(everything).not.toContain(created.write_key);
    expect(everything).not.toContain(created.read_key);
    expect(rows.every((r) => r.key_hash.length === 32)).toBe(true);
  });
});

describe('readiness across a schema upgrade', () => {
  it('keeps a running API ready when a newer migration commits, and not ready on a database behind it', async () => {
    const db = await freshDb(true);
    const redis = await useSharedRedis();
    const api = await spawnApi({ DATABASE_URL: db.url, REDIS_URL: redis.url, EAP_ADMIN_TOKEN: 'readiness-admin-token' });
    const readiness = async () => {
      const res = await fetch(`${api.adminUrl}/readyz`);
      return { status: res.status, body: JSON.stringify(await res.json()) };
    };
    try {
      await waitFor(async () => (await readiness()).status === 200, 20_000, 'the API ready on the current schema');
      // The next image's migration commits while this version still serves: it stays ready.
      const expected = expectedSchemaVersion();
      await db.pool.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, 'next_release', 'x')", [expected + 1]);
      await waitFor(async () => (await readiness()).body.includes('"schema":"ahead"'), 20_000, 'readiness seeing the newer schema');
      expect((await readiness()).status).toBe(200);
      // A later migration that declares it needs newer code makes this version unready, not wrong.
      await db.pool.query(
        "INSERT INTO schema_migrations (version, name, checksum, compatible_with) VALUES ($1, 'breaking_release', 'x', $1)",
        [expected + 2],
      );
      await waitFor(async () => (await readiness()).status === 503, 20_000, 'not ready on a schema declared incompatible');
      expect((await readiness()).body).toContain('"schema":"incompatible"');
      await db.pool.query('DELETE FROM schema_migrations WHERE version = $1', [expected + 2]);
      await waitFor(async () => (await readiness()).status === 200, 20_000, 'ready again');
      // A database behind the code is refused until `eap migrate up` runs.
      await db.pool.query('DELETE FROM schema_migrations WHERE version >= $1', [expected]);
      await waitFor(async () => (await readiness()).status === 503, 20_000, 'not ready on a database behind the code');
      expect((await readiness()).body).toContain('"schema":"behind"');
    } finally {
      await api.stop();
      await redis.close();
    }
  });
});
