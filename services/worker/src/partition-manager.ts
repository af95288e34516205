import type pg from 'pg';
import type { Logger } from '@eap/core';

const DAY_MS = 86_400_000;

/** UTC day (`YYYY-MM-DD`) of an ISO timestamp or epoch ms. */
export function utcDay(time: string | number): string {
  // The API writes UTC times (`…Z`): their first 10 characters are the day.
  if (typeof time === 'string' && time.length >= 20 && time.endsWith('Z')) return time.slice(0, 10);
  return new Date(typeof time === 'number' ? time : Date.parse(time)).toISOString().slice(0, 10);
}

// Any constant shared by all workers: only one of them drops partitions at a time.
const RETENTION_LOCK_KEY = 0x0eaf_0002;

/**
 * Keeps the daily partitions of `events` in step with the events arriving: creates the partition
 * of each new day on demand (remembered, so a known day costs nothing), creates the coming days
 * ahead of time, and drops whole days older than the retention window.
 */
export function createPartitionManager(pool: pg.Pool, logger: Logger) {
  const known = new Set<string>();

  /** Makes sure the partitions of these days exist. Runs outside any insert transaction. */
  async function ensureDays(days: Iterable<string>): Promise<void> {
    for (const day of days) {
      if (known.has(day)) continue;
      await pool.query('SELECT eap_ensure_event_partition($1::date)', [day]);
      known.add(day);
    }
  }

  /** Creates the partitions from yesterday to `aheadDays` days from now. */
  async function ensureAhead(now: number, aheadDays: number): Promise<void> {
    const days: string[] = [];
    for (let d = -1; d <= aheadDays; d++) days.push(utcDay(now + d * DAY_MS));
    await ensureDays(days);
  }

  /** Forgets what is known (after a partition was dropped elsewhere, for example). */
  function forget(): void {
    known.clear();
  }

  /**
   * Drops daily partitions that end before `now - retentionDays` days, and the query rollups of
   * those days. One worker at a time (advisory lock); returns the dropped partition names.
   */
  async function dropExpired(now: number, retentionDays: number): Promise<string[]> {
    const client = await pool.connect();
    try {
      const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK_KEY]);
      if (!lock[0]?.ok) return [];
      try {
        const cutoff = utcDay(now - retentionDays * DAY_MS);
        const { rows } = await client.query<{ name: string }>(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'public.events'::regclass AND c.relname ~ '^events_p[0-9]{8}$'
             AND to_date(substring(c.relname from 9), 'YYYYMMDD') < $1::date
           ORDER BY 1`,
          [cutoff],
        );
        // Dropping a partition locks `events` whole: wait at most 2 s for readers, then try
        // again next round, rather than queue every writer and reader behind the drop.
        await client.query("SET lock_timeout = '2s'");
        for (const { name } of rows) {
          // The name comes from pg_class and matched the pattern above; quote it anyway.
          await client.query(`DROP TABLE IF EXISTS public."${name.replace(/"/g, '""')}"`);
          known.delete(`${name.slice(8, 12)}-${name.slice(12, 14)}-${name.slice(14, 16)}`);
          logger.info({ partition: name }, 'dropped expired event partition');
        }
        // The query rollups of those days go too, so rollups and raw events keep agreeing.
        if (rows.length > 0) await client.query('SELECT eap_drop_rollups_before($1::date)', [cutoff]);
        return rows.map((r) => r.name);
      } finally {
        await client.query('RESET lock_timeout');
        await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  }

  return { ensureDays, ensureAhead, dropExpired, forget };
}
export type PartitionManager = ReturnType<typeof createPartitionManager>;
