import type pg from 'pg';

/** The key every funnel step scans: a step's events by project, name and time. */
export const FUNNEL_KEY = '(project_id, event, "timestamp")';

/** Index definitions on that key that the funnel measurement compares (USING btree …). */
export const FUNNEL_INDEX_VARIANTS = {
  /** 0002's covering index (replaced by 0007). */
  include_user: `${FUNNEL_KEY} INCLUDE (distinct_id)`,
  /** 0007: is_bot carried too, so `NOT is_bot` is checked in the index. */
  include_user_bot: `${FUNNEL_KEY} INCLUDE (distinct_id, is_bot)`,
  /** Only non-bot events: queries that leave bots out read it without looking at is_bot. */
  partial_not_bot: `${FUNNEL_KEY} INCLUDE (distinct_id) WHERE (NOT is_bot)`,
} as const;
export type FunnelIndexVariant = keyof typeof FUNNEL_INDEX_VARIANTS;

/** Indexes on `events` (partitioned parents) with the funnel key, by name, with their definition after USING btree. */
export async function funnelIndexes(db: pg.Pool | pg.ClientBase): Promise<Map<string, string>> {
  const { rows } = await db.query<{ name: string; def: string }>(
    `SELECT indexname AS name, regexp_replace(indexdef, '^.* USING btree ', '') AS def
     FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'events'`,
  );
  return new Map(rows.filter((r) => r.def.startsWith(FUNNEL_KEY)).map((r) => [r.name, r.def]));
}

/**
 * Makes sure an index of each variant exists (the migrations' own index when it has that
 * definition, else `funnel_plan_<variant>_idx`, built on every partition); returns the index name
 * of each variant.
 */
export async function ensureFunnelIndexes(
  db: pg.Pool | pg.ClientBase,
  variants: readonly FunnelIndexVariant[],
): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const variant of variants) {
    const def = FUNNEL_INDEX_VARIANTS[variant];
    const existing = [...(await funnelIndexes(db))].find(([, d]) => d === def)?.[0];
    names[variant] = existing ?? `funnel_plan_${variant}_idx`;
    if (!existing) await db.query(`CREATE INDEX ${names[variant]} ON events USING btree ${def}`);
  }
  return names;
}

/** Partition (child) index and table names mapped to their partitioned parent's name. */
export async function partitionParents(db: pg.Pool | pg.ClientBase): Promise<Map<string, string>> {
  const { rows } = await db.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent`,
  );
  return new Map(rows.map((r) => [r.child, r.parent]));
}

/** Size in MiB of a partitioned index (all its partitions). */
export async function partitionedIndexMib(db: pg.Pool | pg.ClientBase, name: string): Promise<number> {
  const { rows } = await db.query<{ bytes: string }>(
    'SELECT coalesce(sum(pg_relation_size(inhrelid)), 0) AS bytes FROM pg_inherits WHERE inhparent = $1::regclass',
    [name],
  );
  return Math.round((Number(rows[0]!.bytes) / 2 ** 20) * 10) / 10;
}
