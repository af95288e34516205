import { createHash } from 'node:crypto';
import type pg from 'pg';
import { batchDeleteSql, deleteInBatches, eventPartitions } from './batched-delete.ts';
import { inTransaction } from './transaction.ts';
import type { DeadLetterRemoval } from './dead-letter-removal.ts';
import type { DrainScope, PipelineDrain } from './pipeline-drain.ts';
import { type DeletedEvent, subtractFromRollups } from './rollup-adjustments.ts';

type Pool = Pick<pg.Pool, 'query' | 'connect'>;

/** Rows removed per table by one deletion. */
export interface RowsRemoved {
  events: number;
  event_ids: number;
  event_counts_hourly: number;
  event_user_days: number;
  event_users_daily: number;
  persons: number;
  person_distinct_ids: number;
  api_keys: number;
  projects: number;
  /** Receipts of earlier person deletions of a deleted project (they hold hashes of its distinct ids). */
  person_deletion_receipts: number;
}

/** What a deletion did: stored in `deletions` and returned to whoever asked for it. */
export interface DeletionReceipt {
  deletion_id: string;
  kind: 'person' | 'project';
  project_id: string;
  /** The deleted person's id; null for a distinct id without a person row, and for a project. */
  person_id: string | null;
  /** How many distinct ids the deleted person had (1 for a distinct id without a person row). */
  distinct_ids: number;
  requested_at: string;
  completed_at: string;
  /** API keys of the project revoked before anything was deleted. */
  keys_revoked: number;
  /** Whether events accepted before the deletion were all written first; null when not checked. */
  pipeline: PipelineDrain | null;
  removed: RowsRemoved;
  /** Events of the subject removed from the dead-letter stream; null when the DLQ was not checked. */
  dlq_entries: number | null;
  /** Letters left in the DLQ because their data cannot be read (nobody can be told from it); null when not checked. */
  dlq_unreadable: number | null;
  /** Amounts taken out of counters whose rows stay (a person's share of hourly counts and daily users). */
  subtracted: { event_counts_hourly: number; event_users_daily: number };
}

export type DeletionResult = { status: 'deleted'; receipt: DeletionReceipt } | { status: 'not_found'; what: 'project' | 'person' };

/** Progress of a running deletion: called after each committed batch. */
export type DeletionProgress = (step: { table: keyof RowsRemoved; removed: number }) => Promise<void> | void;

export interface DeletionOptions {
  /** Rows per transaction. Default 2000. */
  batchSize?: number;
  /**
   * Waits until the stream entries accepted before the deletion are written (see
   * createPipelineDrain). Without it the pipeline is not checked and the receipt says null.
   */
  waitForPipeline?: (scope: DrainScope) => Promise<PipelineDrain>;
  /**
   * Removes the subject's letters from the dead-letter stream (see createDeadLetterRemoval), after
   * the rows. Without it the DLQ is not checked and the receipt says null.
   */
  removeDeadLetters?: (scope: DrainScope) => Promise<DeadLetterRemoval>;
  onProgress?: DeletionProgress;
}

export interface ProjectDeletionOptions extends DeletionOptions {
  /**
   * Wait after revoking the keys before looking at the streams, in ms: API processes accept a
   * revoked key until their cached copy expires (KEY_CACHE_TTL_MS). Default 0.
   */
  revokedKeySettleMs?: number;
}

const DEFAULT_BATCH = 2000;

/** SHA-256 of (project id, NUL, distinct id): how a receipt names a deleted distinct id. */
export function distinctIdHash(projectId: string, distinctId: string): Buffer {
  return createHash('sha256').update(`${projectId}\u0000${distinctId}`, 'utf8').digest();
}

function emptyRemoved(): RowsRemoved {
  return {
    events: 0,
    event_ids: 0,
    event_counts_hourly: 0,
    event_user_days: 0,
    event_users_daily: 0,
    persons: 0,
    person_distinct_ids: 0,
    api_keys: 0,
    projects: 0,
    person_deletion_receipts: 0,
  };
}

async function projectExists(pool: Pick<pg.Pool, 'query'>, projectId: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM projects WHERE id = $1', [projectId]);
  return (rowCount ?? 0) > 0;
}

/** The person of a distinct id and all its distinct ids; a distinct id without a person is its own. */
async function resolvePerson(
  pool: Pick<pg.Pool, 'query'>,
  projectId: string,
  distinctId: string,
): Promise<{ personId: string | null; distinctIds: string[] }> {
  const { rows } = await pool.query<{ person_id: string }>(
    'SELECT person_id FROM person_distinct_ids WHERE project_id = $1 AND distinct_id = $2',
    [projectId, distinctId],
  );
  const personId = rows[0]?.person_id ?? null;
  if (personId === null) return { personId, distinctIds: [distinctId] };
  const linked = await pool.query<{ distinct_id: string }>(
    'SELECT distinct_id FROM person_distinct_ids WHERE project_id = $1 AND person_id = $2 ORDER BY distinct_id',
    [projectId, personId],
  );
  const ids = linked.rows.map((r) => r.distinct_id);
  return { personId, distinctIds: ids.includes(distinctId) ? ids : [distinctId, ...ids] };
}

/** Whether anything is known of a distinct id: events, a person, or an earlier deletion of it. */
async function distinctIdKnown(pool: Pick<pg.Pool, 'query'>, projectId: string, distinctId: string, hasPerson: boolean): Promise<boolean> {
  if (hasPerson) return true;
  const { rows } = await pool.query<{ known: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM events WHERE project_id = $1 AND distinct_id = $2)
         OR EXISTS (SELECT 1 FROM deletions WHERE project_id = $1 AND kind = 'person' AND $3 = ANY(subject_hashes)) AS known`,
    [projectId, distinctId, distinctIdHash(projectId, distinctId)],
  );
  return rows[0]?.known ?? false;
}

async function startReceipt(
  pool: Pick<pg.Pool, 'query'>,
  kind: 'person' | 'project',
  projectId: string,
  personId: string | null,
  hashes: Buffer[],
): Promise<{ id: string; requestedAt: Date }> {
  const { rows } = await pool.query<{ id: string; requested_at: Date }>(
    `INSERT INTO deletions (project_id, kind, person_id, subject_hashes) VALUES ($1, $2, $3, $4) RETURNING id, requested_at`,
    [projectId, kind, personId, hashes],
  );
  return { id: rows[0]!.id, requestedAt: rows[0]!.requested_at };
}

/** The receipt's DLQ counts: null for both when the DLQ is not checked. */
async function removeDeadLetters(
  options: DeletionOptions,
  scope: DrainScope,
): Promise<Pick<DeletionReceipt, 'dlq_entries' | 'dlq_unreadable'>> {
  if (!options.removeDeadLetters) return { dlq_entries: null, dlq_unreadable: null };
  const { removed, unreadable } = await options.removeDeadLetters(scope);
  return { dlq_entries: removed, dlq_unreadable: unreadable };
}

async function completeReceipt(pool: Pick<pg.Pool, 'query'>, receipt: Omit<DeletionReceipt, 'completed_at'>): Promise<DeletionReceipt> {
  const { rows } = await pool.query<{ completed_at: Date }>(
    'UPDATE deletions SET completed_at = now() WHERE id = $1 RETURNING completed_at',
    [receipt.deletion_id],
  );
  const complete: DeletionReceipt = { ...receipt, completed_at: rows[0]!.completed_at.toISOString() };
  await pool.query('UPDATE deletions SET receipt = $2 WHERE id = $1', [receipt.deletion_id, JSON.stringify(complete)]);
  return complete;
}

/**
 * Deletes every event of `distinctIds` (all partitions), one batch per transaction, and takes
 * each batch out of event_ids and the rollups in the same transaction, so the rollups equal a
 * recount from events after every batch.
 */
async function deletePersonEvents(
  pool: Pool,
  projectId: string,
  distinctIds: string[],
  batchSize: number,
  removed: RowsRemoved,
  subtracted: DeletionReceipt['subtracted'],
  onProgress: DeletionProgress | undefined,
): Promise<void> {
  for (const partition of await eventPartitions(pool)) {
    const sql = batchDeleteSql(
      partition,
      'project_id = $1 AND distinct_id = ANY($2::text[])',
      3,
      `event_id, event, distinct_id, is_bot, to_char(date_trunc('hour', "timestamp", 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:00:00"Z"') AS hour,
       to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day`,
    );
    for (;;) {
      const n = await inTransaction(pool, async (client) => {
        const deleted = await client.query<DeletedEvent & { event_id: string }>(sql, [projectId, distinctIds, batchSize]);
        if (deleted.rows.length === 0) return 0;
        const ids = await client.query('DELETE FROM event_ids WHERE project_id = $1 AND event_id = ANY($2::text[])', [
          projectId,
          deleted.rows.map((r) => r.event_id),
        ]);
        const rollups = await subtractFromRollups(client, projectId, deleted.rows);
        removed.events += deleted.rows.length;
        removed.event_ids += ids.rowCount ?? 0;
        removed.event_counts_hourly += rollups.hourlyRowsRemoved;
        removed.event_user_days += rollups.userDaysRemoved;
        removed.event_users_daily += rollups.dailyRowsRemoved;
        subtracted.event_counts_hourly += rollups.hourlyEventsSubtracted;
        subtracted.event_users_daily += rollups.dailyUsersSubtracted;
        return deleted.rows.length;
      });
      if (n === 0) break;
      await onProgress?.({ table: 'events', removed: n });
    }
  }
}

/**
 * Deletes a person: resolves `distinctId` to its person (a distinct id without a person is a
 * person of its own), waits (bounded) for the events of its distinct ids already accepted into
 * the streams, then removes every event of every distinct id of the person with its dedup row
 * and its share of the rollups, then the person and its distinct-id links, then the letters of
 * those distinct ids in the dead-letter stream (with `removeDeadLetters`). Idempotent: a repeated
 * request for a deleted distinct id gets a receipt with zero counts. `not_found` when the
 * project, or anything about the distinct id, is unknown.
 */
export async function deletePerson(
  pool: Pool,
  projectId: string,
  distinctId: string,
  options: DeletionOptions = {},
): Promise<DeletionResult> {
  if (!(await projectExists(pool, projectId))) return { status: 'not_found', what: 'project' };
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  let person = await resolvePerson(pool, projectId, distinctId);
  // Wait before deciding: the distinct id's first events may still be in the streams.
  const pipeline = options.waitForPipeline ? await options.waitForPipeline({ projectId, distinctIds: person.distinctIds }) : null;
  // The events just written may have linked more distinct ids to the person.
  person = await resolvePerson(pool, projectId, distinctId);
  if (!(await distinctIdKnown(pool, projectId, distinctId, person.personId !== null))) return { status: 'not_found', what: 'person' };

  const { personId, distinctIds } = person;
  const started = await startReceipt(
    pool,
    'person',
    projectId,
    personId,
    distinctIds.map((id) => distinctIdHash(projectId, id)),
  );
  const removed = emptyRemoved();
  const subtracted = { event_counts_hourly: 0, event_users_daily: 0 };
  await deletePersonEvents(pool, projectId, distinctIds, batchSize, removed, subtracted, options.onProgress);

  const progress = (table: keyof RowsRemoved) => (n: number) => options.onProgress?.({ table, removed: n });
  removed.person_distinct_ids = await deleteInBatches(
    pool,
    'person_distinct_ids',
    'project_id = $1 AND (person_id = $2 OR distinct_id = ANY($3::text[]))',
    [projectId, personId, distinctIds],
    batchSize,
    progress('person_distinct_ids'),
  );
  if (personId !== null) {
    const gone = await pool.query('DELETE FROM persons WHERE project_id = $1 AND id = $2', [projectId, personId]);
    removed.persons = gone.rowCount ?? 0;
  }
  const dlq = await removeDeadLetters(options, { projectId, distinctIds });
  const receipt = await completeReceipt(pool, {
    deletion_id: started.id,
    kind: 'person',
    project_id: projectId,
    person_id: personId,
    distinct_ids: distinctIds.length,
    requested_at: started.requestedAt.toISOString(),
    keys_revoked: 0,
    pipeline,
    removed,
    ...dlq,
    subtracted,
  });
  return { status: 'deleted', receipt };
}

/**
 * Deletes a project: revokes its keys first (ingest stops within the key cache TTL), waits
 * (bounded) for its entries already in the streams, then removes every row of it from every
 * table in batches, the project row last, then its letters in the dead-letter stream (with
 * `removeDeadLetters`), so a deletion that stops half way can be run again.
 * A project deleted before is still known: deleting it again removes whatever arrived since
 * (zero counts when nothing did). `not_found` for a project that never existed.
 */
export async function deleteProject(pool: Pool, projectId: string, options: ProjectDeletionOptions = {}): Promise<DeletionResult> {
  if (!(await projectExists(pool, projectId))) {
    const before = await pool.query("SELECT 1 FROM deletions WHERE project_id = $1 AND kind = 'project' LIMIT 1", [projectId]);
    if ((before.rowCount ?? 0) === 0) return { status: 'not_found', what: 'project' };
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const started = await startReceipt(pool, 'project', projectId, null, []);
  const revoked = await pool.query('UPDATE api_keys SET revoked_at = now() WHERE project_id = $1 AND revoked_at IS NULL', [projectId]);
  if (options.revokedKeySettleMs) await new Promise((resolve) => setTimeout(resolve, options.revokedKeySettleMs));
  const pipeline = options.waitForPipeline ? await options.waitForPipeline({ projectId }) : null;

  const removed = emptyRemoved();
  const progress = (table: keyof RowsRemoved) => (n: number) => options.onProgress?.({ table, removed: n });
  const byProject = (table: keyof RowsRemoved, name: string = table, where = 'project_id = $1') =>
    deleteInBatches(pool, name, where, [projectId], batchSize, progress(table));
  for (const partition of await eventPartitions(pool)) removed.events += await byProject('events', partition);
  removed.event_ids = await byProject('event_ids');
  removed.event_counts_hourly = await byProject('event_counts_hourly');
  removed.event_user_days = await byProject('event_user_days');
  removed.event_users_daily = await byProject('event_users_daily');
  removed.persons = await byProject('persons');
  removed.person_distinct_ids = await byProject('person_distinct_ids');
  removed.person_deletion_receipts = await byProject('person_deletion_receipts', 'deletions', "project_id = $1 AND kind = 'person'");
  await inTransaction(pool, async (client) => {
    removed.api_keys = (await client.query('DELETE FROM api_keys WHERE project_id = $1', [projectId])).rowCount ?? 0;
    removed.projects = (await client.query('DELETE FROM projects WHERE id = $1', [projectId])).rowCount ?? 0;
  });
  const dlq = await removeDeadLetters(options, { projectId });
  const receipt = await completeReceipt(pool, {
    deletion_id: started.id,
    kind: 'project',
    project_id: projectId,
    person_id: null,
    distinct_ids: 0,
    requested_at: started.requestedAt.toISOString(),
    keys_revoked: revoked.rowCount ?? 0,
    pipeline,
    removed,
    ...dlq,
    subtracted: { event_counts_hourly: 0, event_users_daily: 0 },
  });
  return { status: 'deleted', receipt };
}
