import type pg from 'pg';
import { type ProjectSettings, type ProjectSettingsUpdate, readProjectSettings } from '@eap/core';
import { inTransaction } from './transaction.ts';
import { generateApiKey, hashApiKey, keyPrefix, type KeyKind } from './api-keys.ts';

type Queryable = Pick<pg.Pool, 'query' | 'connect'>;

export interface CreatedProject {
  project_id: string;
  name: string;
  write_key: string;
  read_key: string;
}

export interface ProjectSummary {
  project_id: string;
  name: string;
  created_at: string;
  write_key_prefixes: string[];
  read_key_prefixes: string[];
  /** The project's collection settings, every default filled in. */
  settings: ProjectSettings;
}

export interface ActiveKey {
  projectId: string;
  kind: KeyKind;
  keyHash: Buffer;
  /** The settings of the key's project, read with the key so ingest needs no other query. */
  settings: ProjectSettings;
}

async function insertKey(client: pg.PoolClient, projectId: string, kind: KeyKind): Promise<string> {
  const key = generateApiKey(kind);
  await client.query('INSERT INTO api_keys (project_id, kind, key_hash, key_prefix) VALUES ($1, $2, $3, $4)', [
    projectId,
    kind,
    hashApiKey(key),
    keyPrefix(key),
  ]);
  return key;
}

/** Creates a project with one write key and one read key; the keys exist in clear only in the result. */
export async function createProject(pool: Queryable, name: string): Promise<CreatedProject> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>('INSERT INTO projects (name) VALUES ($1) RETURNING id', [name]);
    const projectId = rows[0]!.id;
    const writeKey = await insertKey(client, projectId, 'write');
    const readKey = await insertKey(client, projectId, 'read');
    return { project_id: projectId, name, write_key: writeKey, read_key: readKey };
  });
}

/** Every project with the prefixes of its active keys, oldest first. */
export async function listProjects(pool: Queryable): Promise<ProjectSummary[]> {
  const { rows } = await pool.query<Omit<ProjectSummary, 'settings'> & { settings: unknown }>(`
    SELECT p.id AS project_id, p.name, to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
      coalesce(array_agg(k.key_prefix ORDER BY k.created_at) FILTER (WHERE k.kind = 'write'), '{}') AS write_key_prefixes,
      coalesce(array_agg(k.key_prefix ORDER BY k.created_at) FILTER (WHERE k.kind = 'read'), '{}') AS read_key_prefixes,
      p.settings
    FROM projects p
    LEFT JOIN api_keys k ON k.project_id = p.id AND k.revoked_at IS NULL
    GROUP BY p.id
    ORDER BY p.created_at, p.id`);
  return rows.map((row) => ({ ...row, settings: readProjectSettings(row.settings) }));
}

/** A project's settings, every default filled in; null when the project does not exist. */
export async function findProjectSettings(pool: Pick<pg.Pool, 'query'>, projectId: string): Promise<ProjectSettings | null> {
  const { rows } = await pool.query<{ settings: unknown }>('SELECT settings FROM projects WHERE id = $1', [projectId]);
  const row = rows[0];
  return row ? readProjectSettings(row.settings) : null;
}

/**
 * Changes some of a project's settings (the others keep their stored value) and returns all of
 * them, or null when the project does not exist. Running APIs apply the change within their key
 * cache TTL (KEY_CACHE_TTL_MS), as they read settings with the key.
 */
export async function updateProjectSettings(
  pool: Pick<pg.Pool, 'query'>,
  projectId: string,
  update: ProjectSettingsUpdate,
): Promise<ProjectSettings | null> {
  const { rows } = await pool.query<{ settings: unknown }>(
    'UPDATE projects SET settings = settings || $2::jsonb WHERE id = $1 RETURNING settings',
    [projectId, JSON.stringify(update)],
  );
  const row = rows[0];
  return row ? readProjectSettings(row.settings) : null;
}

/**
 * Issues a new key of `kind` for a project and revokes its previous active keys of that kind.
 * Processes that cached an old key stop accepting it within their key cache TTL.
 * Returns null when the project does not exist.
 */
export async function rotateKey(pool: Queryable, projectId: string, kind: KeyKind): Promise<{ key: string; revoked: number } | null> {
  return inTransaction(pool, async (client) => {
    const found = await client.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
    if (found.rowCount === 0) return null;
    const revoked = await client.query(
      'UPDATE api_keys SET revoked_at = now() WHERE project_id = $1 AND kind = $2 AND revoked_at IS NULL',
      [projectId, kind],
    );
    const key = await insertKey(client, projectId, kind);
    return { key, revoked: revoked.rowCount ?? 0 };
  });
}

/** Looks up an active (not revoked) key by its SHA-256 hash, with its project's settings. */
export async function findActiveKey(pool: Pick<pg.Pool, 'query'>, keyHash: Buffer): Promise<ActiveKey | null> {
  const { rows } = await pool.query<{ project_id: string; kind: KeyKind; key_hash: Buffer; settings: unknown }>(
    `SELECT k.project_id, k.kind, k.key_hash, p.settings
     FROM api_keys k JOIN projects p ON p.id = k.project_id
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    [keyHash],
  );
  const row = rows[0];
  return row ? { projectId: row.project_id, kind: row.kind, keyHash: row.key_hash, settings: readProjectSettings(row.settings) } : null;
}

/** Creates the daily event partitions covering `from`..`to` (UTC days, inclusive). */
export async function ensureEventPartitions(pool: Pick<pg.Pool, 'query'>, from: Date, to: Date): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT eap_ensure_event_partitions($1::date, $2::date) AS n', [
    from.toISOString().slice(0, 10),
    to.toISOString().slice(0, 10),
  ]);
  return rows[0]?.n ?? 0;
}
