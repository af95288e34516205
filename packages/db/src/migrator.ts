import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** One migration file `NNNN_name.sql` from the migrations folder. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationState {
  version: number;
  name: string;
  state: 'applied' | 'pending';
  appliedAt: Date | null;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
// Arbitrary constant shared by every EAP process: holders of this advisory lock run migrations.
const MIGRATION_LOCK_KEY = 0x0eaf_0001;

/** Reads the migration files shipped with this code, ordered by version. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new MigrationError(`migration file name ${file} must look like 0001_name.sql`);
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(match[1]),
        name: match[2]!,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new MigrationError(`migration versions must be 1..N without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

/** The schema version this code expects: the highest migration it ships. */
export function expectedSchemaVersion(migrations: Migration[] = loadMigrations()): number {
  return migrations.at(-1)?.version ?? 0;
}

/**
 * Runs versioned SQL migrations. Every run holds a session advisory lock, so processes starting
 * together apply each migration once; each migration commits in its own transaction together with
 * its row in `schema_migrations`. Refuses to run when an applied migration's file was edited
 * (checksum differs) or when the database has versions this code does not know (it is newer).
 */
export function createMigrator(databaseUrl: string, migrations: Migration[] = loadMigrations()) {
  async function withLockedClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'eap-migrate' });
    await client.connect();
    try {
      await client.query('SET client_min_messages = warning');
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version     integer PRIMARY KEY,
          name        text NOT NULL,
          checksum    text NOT NULL,
          applied_at  timestamptz NOT NULL DEFAULT now()
        )`);
        return await fn(client);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      await client.end();
    }
  }

  async function appliedRows(client: pg.Client) {
    const { rows } = await client.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
      'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
    );
    return rows;
  }

  function verify(applied: Awaited<ReturnType<typeof appliedRows>>): void {
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of applied) {
      const migration = known.get(row.version);
      if (!migration) {
        throw new MigrationError(
          `the database has migration ${row.version} (${row.name}) that this code does not know: the database is newer than the code; upgrade EAP instead`,
        );
      }
      if (migration.checksum !== row.checksum) {
        throw new MigrationError(
          `migration ${row.version} (${row.name}) was edited after it was applied (checksum differs); add a new migration instead of changing an applied one`,
        );
      }
    }
  }

  /** Applies every pending migration; returns the versions applied by this call. */
  async function up(): Promise<Migration[]> {
    return withLockedClient(async (client) => {
      const applied = await appliedRows(client);
      verify(applied);
      const done = new Set(applied.map((r) => r.version));
      const ran: Migration[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new MigrationError(`migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`);
        }
        ran.push(migration);
      }
      return ran;
    });
  }

  /** Every migration this code ships, applied or pending; throws on the same problems as `up`. */
  async function status(): Promise<MigrationState[]> {
    return withLockedClient(async (client) => {
      const applied = await appliedRows(client);
      verify(applied);
      const byVersion = new Map(applied.map((r) => [r.version, r]));
      return migrations.map((m) => {
        const row = byVersion.get(m.version);
        return { version: m.version, name: m.name, state: row ? 'applied' : 'pending', appliedAt: row?.applied_at ?? null };
      });
    });
  }

  return { up, status };
}

/** Current schema version of a database (0 when never migrated). */
export async function currentSchemaVersion(query: (sql: string) => Promise<{ rows: { version: number | null }[] }>): Promise<number> {
  const { rows } = await query(
    "SELECT CASE WHEN to_regclass('public.schema_migrations') IS NULL THEN 0 ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END AS version",
  );
  return rows[0]?.version ?? 0;
}

/**
 * Whether code that ships schema `expected` may serve a database at `version`. Behind: no (it
 * needs `eap migrate up`). At or ahead: yes. A database ahead of the code is the normal state of
 * a rollout: the new image's migration has committed and the old pods keep serving until they
 * are replaced, so ingest is never refused during an upgrade. That is safe because migrations are
 * additive for the release before them (new tables, columns with defaults, indexes; nothing the
 * running code reads is dropped or renamed in the same release). Running an older image against
 * a newer database for good is stopped elsewhere: its `eap migrate up` refuses such a database.
 */
export function schemaCompatibility(version: number, expected: number): { ok: boolean; state: 'behind' | 'current' | 'ahead' } {
  if (version < expected) return { ok: false, state: 'behind' };
  return { ok: true, state: version === expected ? 'current' : 'ahead' };
}

/**
 * A readiness check: PostgreSQL answers and its schema is one this code can serve
 * ({@link schemaCompatibility}: at its version, or ahead of it during a rollout).
 */
export function schemaReadinessCheck(pool: { query: (sql: string) => Promise<{ rows: { version: number | null }[] }> }) {
  const expected = expectedSchemaVersion();
  return {
    name: 'postgres',
    check: async () => {
      const version = await currentSchemaVersion((sql) => pool.query(sql));
      const { ok, state } = schemaCompatibility(version, expected);
      return { ok, detail: { schema_version: version, expected_schema_version: expected, schema: state } };
    },
  };
}
