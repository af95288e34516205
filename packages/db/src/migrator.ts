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
  /**
   * Oldest code schema version that still works on a database with this migration applied:
   * the file's `-- compatible-with-schema: N` line, else the release before it (version - 1),
   * since migrations are written to be compatible with the previous release.
   */
  compatibleWith: number;
}

const COMPATIBLE_WITH = /^-- compatible-with-schema: (\d+)\s*$/m;

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
      const version = Number(match[1]);
      const declared = COMPATIBLE_WITH.exec(sql)?.[1];
      return {
        version,
        name: match[2]!,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
        compatibleWith: declared === undefined ? version - 1 : Number(declared),
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
        // Which code versions may serve the database, read by readiness (schemaCompatibility).
        await client.query('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS compatible_with integer');
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
          await client.query('INSERT INTO schema_migrations (version, name, checksum, compatible_with) VALUES ($1, $2, $3, $4)', [
            migration.version,
            migration.name,
            migration.checksum,
            migration.compatibleWith,
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
 * The oldest code schema version every migration applied after `expected` still works with
 * (`compatible_with`, or version - 1 for rows written before that column existed); `expected`
 * when there is none.
 */
async function oldestCompatibleCode(
  query: (sql: string, values: unknown[]) => Promise<{ rows: { oldest: number | null }[] }>,
  expected: number,
) {
  const { rows } = await query('SELECT max(coalesce(compatible_with, version - 1)) AS oldest FROM schema_migrations WHERE version > $1', [
    expected,
  ]);
  return rows[0]?.oldest ?? expected;
}

/**
 * Whether code that ships schema `expected` may serve a database at `version`, whose migrations
 * past `expected` declare they work with code from schema `oldestCompatible` on. Behind: no (it
 * needs `eap migrate up`). At: yes. Ahead, within that declared range: yes — the normal state of
 * a rollout, where the new image's migration has committed and the old pods keep serving until
 * they are replaced, so ingest is never refused during an upgrade. Migrations are written to be
 * compatible with the release before them (new tables, columns with defaults, indexes; nothing
 * the running code relies on dropped or renamed) and may declare otherwise with a
 * `-- compatible-with-schema: N` line, which makes older pods unready rather than wrong.
 * Running an older image against a newer database for good is stopped elsewhere: its
 * `eap migrate up` refuses such a database.
 */
export function schemaCompatibility(
  version: number,
  expected: number,
  oldestCompatible = expected,
): { ok: boolean; state: 'behind' | 'current' | 'ahead' | 'incompatible' } {
  if (version < expected) return { ok: false, state: 'behind' };
  if (version === expected) return { ok: true, state: 'current' };
  return oldestCompatible <= expected ? { ok: true, state: 'ahead' } : { ok: false, state: 'incompatible' };
}

type Queryable = { query: (sql: string, values?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }> };

/**
 * A readiness check: PostgreSQL answers and its schema is one this code can serve
 * ({@link schemaCompatibility}: at its version, or ahead of it within the declared range).
 */
export function schemaReadinessCheck(pool: Queryable, expected: number = expectedSchemaVersion()) {
  return {
    name: 'postgres',
    check: async () => {
      const version = await currentSchemaVersion((sql) => pool.query(sql) as Promise<{ rows: { version: number | null }[] }>);
      const oldest =
        version > expected
          ? await oldestCompatibleCode((sql, values) => pool.query(sql, values) as Promise<{ rows: { oldest: number | null }[] }>, expected)
          : expected;
      const { ok, state } = schemaCompatibility(version, expected, oldest);
      return {
        ok,
        detail: { schema_version: version, expected_schema_version: expected, oldest_compatible_schema: oldest, schema: state },
      };
    },
  };
}
