import type pg from 'pg';

// Any constant shared by all workers: one of them prunes at a time.
const PRUNE_LOCK_KEY = 0x0eaf_0003;
const CHUNK = 10_000;

/**
 * Forgets the event ids first seen more than `windowDays` days ago (`event_ids`, see migration
 * 0003): a retry older than that is deduplicated by the primary key of `events` alone. Deletes
 * in chunks, each its own short transaction, so it never holds many row locks or a long
 * snapshot. One worker at a time; returns how many ids were forgotten.
 */
export async function pruneEventIds(pool: pg.Pool, windowDays: number): Promise<number> {
  const client = await pool.connect();
  try {
    const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [PRUNE_LOCK_KEY]);
    if (!lock[0]?.ok) return 0;
    try {
      let total = 0;
      for (;;) {
        const result = await client.query(
          `DELETE FROM event_ids WHERE ctid = ANY (ARRAY(
             SELECT ctid FROM event_ids WHERE first_seen < now() - make_interval(days => $1) LIMIT $2))`,
          [windowDays, CHUNK],
        );
        total += result.rowCount ?? 0;
        if ((result.rowCount ?? 0) < CHUNK) return total;
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRUNE_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
