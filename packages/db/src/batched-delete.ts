import pg from 'pg';

// Deleting much data without making ingest wait: many short transactions of a few thousand rows
// each, found by index and deleted by ctid. A DELETE takes ROW EXCLUSIVE on the table, which
// writers' INSERTs (ROW EXCLUSIVE too) do not conflict with; the only rows locked are the ones
// being deleted, for one short transaction.

/** The daily partitions of `events`, as quoted identifiers, oldest first. */
export async function eventPartitions(pool: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'public.events'::regclass ORDER BY c.relname`,
  );
  return rows.map((r) => `public.${pg.escapeIdentifier(r.name)}`);
}

/**
 * The statement deleting at most $N rows of `table` matching `where` (whose parameters come
 * first; the batch size is the next one), found by index and deleted by ctid.
 * `table` and `where` are the caller's constants, never input.
 */
export function batchDeleteSql(table: string, where: string, batchSizeParam: number, returning = ''): string {
  return `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${where} LIMIT $${batchSizeParam}))${
    returning ? ` RETURNING ${returning}` : ''
  }`;
}

/**
 * Deletes every row of `table` matching `where`, `batchSize` rows per statement (each its own
 * transaction); `onBatch` runs after each committed batch. Returns how many rows were deleted.
 */
export async function deleteInBatches(
  pool: Pick<pg.Pool, 'query'>,
  table: string,
  where: string,
  params: unknown[],
  batchSize: number,
  onBatch?: (removed: number) => Promise<void> | void,
): Promise<number> {
  const sql = batchDeleteSql(table, where, params.length + 1);
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, [...params, batchSize]);
    const removed = rowCount ?? 0;
    total += removed;
    if (removed === 0) return total;
    await onBatch?.(removed);
  }
}
