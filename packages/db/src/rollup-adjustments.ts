import type pg from 'pg';

// Keeps the rollups of migration 0002 equal to a recount from `events` when events are deleted,
// inside the transaction that deletes them. Lock order is the rollup trigger's (hourly counts,
// then user-days, then daily users, each in key order), so a deletion and a writer never
// deadlock; rows are locked before they are read, so the amounts subtracted are never stale.

/** One deleted event, as the DELETE … RETURNING of the deletion gives it. */
export interface DeletedEvent {
  event: string;
  distinct_id: string;
  /** UTC hour of the event, ISO. */
  hour: string;
  /** UTC day of the event, YYYY-MM-DD. */
  day: string;
  is_bot: boolean;
}

/** How much a batch took out of the rollups. */
export interface RollupAdjustment {
  /** Events subtracted from event_counts_hourly. */
  hourlyEventsSubtracted: number;
  /** event_counts_hourly rows that reached zero and were removed. */
  hourlyRowsRemoved: number;
  /** event_user_days rows removed (the user has no event of that name that day any more). */
  userDaysRemoved: number;
  /** Users subtracted from event_users_daily. */
  dailyUsersSubtracted: number;
  /** event_users_daily rows that reached zero and were removed. */
  dailyRowsRemoved: number;
}

/** A slotted counter table: per (project, event, time) the value is the sum over `slot`s. */
interface SlottedCounter {
  table: 'event_counts_hourly' | 'event_users_daily';
  time: 'hour' | 'day';
  timeType: 'timestamptz' | 'date';
  value: 'events' | 'users';
}

const HOURLY: SlottedCounter = { table: 'event_counts_hourly', time: 'hour', timeType: 'timestamptz', value: 'events' };
const DAILY_USERS: SlottedCounter = { table: 'event_users_daily', time: 'day', timeType: 'date', value: 'users' };

/**
 * Subtracts `amounts` (per event and time) from a slotted counter: from the lowest slot up, each
 * slot giving at most what it holds, so no slot goes negative; rows left at zero are removed (a
 * recount has no zero rows). Returns what was subtracted and how many rows were removed.
 */
async function subtractFromSlots(
  client: pg.PoolClient,
  counter: SlottedCounter,
  projectId: string,
  amounts: Map<string, { event: string; time: string; n: number }>,
): Promise<{ subtracted: number; removed: number }> {
  if (amounts.size === 0) return { subtracted: 0, removed: 0 };
  const list = [...amounts.values()];
  const params = [projectId, list.map((a) => a.event), list.map((a) => a.time), list.map((a) => a.n)];
  const { table, time, timeType, value } = counter;
  const wanted = `SELECT * FROM unnest($2::text[], $3::${timeType}[]) AS w(event, t)`;
  await client.query(
    `SELECT 1 FROM ${table} WHERE project_id = $1 AND (event, ${time}) IN (${wanted}) ORDER BY event, ${time}, slot FOR UPDATE`,
    params.slice(0, 3),
  );
  const updated = await client.query<{ taken: string }>(
    `WITH want AS (SELECT * FROM unnest($2::text[], $3::${timeType}[], $4::bigint[]) AS w(event, t, n)),
     slots AS (
       SELECT c.event, c.${time} AS t, c.slot, c.${value} AS v,
              w.n - (sum(c.${value}) OVER (PARTITION BY c.event, c.${time} ORDER BY c.slot) - c.${value}) AS left_before
       FROM ${table} c JOIN want w ON c.event = w.event AND c.${time} = w.t
       WHERE c.project_id = $1
     )
     UPDATE ${table} c SET ${value} = c.${value} - least(s.v, s.left_before)
     FROM slots s
     WHERE c.project_id = $1 AND c.event = s.event AND c.${time} = s.t AND c.slot = s.slot AND s.left_before > 0
     RETURNING least(s.v, s.left_before) AS taken`,
    params,
  );
  const removed = await client.query(
    `DELETE FROM ${table} WHERE project_id = $1 AND (event, ${time}) IN (${wanted}) AND ${value} <= 0`,
    params.slice(0, 3),
  );
  return { subtracted: updated.rows.reduce((sum, r) => sum + Number(r.taken), 0), removed: removed.rowCount ?? 0 };
}

function add(map: Map<string, { event: string; time: string; n: number }>, event: string, time: string, n: number): void {
  const key = `${event}\u0000${time}`;
  const entry = map.get(key);
  if (entry) entry.n += n;
  else map.set(key, { event, time, n });
}

/**
 * Takes `deleted` events (already deleted in this transaction) out of the rollups: hourly counts
 * lose them; a user-day row goes when its user has no other event of that name that day (and the
 * day's unique users lose one), or gets the time of the user's first remaining event. Bot events
 * were never counted (0004), so they are skipped.
 */
export async function subtractFromRollups(client: pg.PoolClient, projectId: string, deleted: DeletedEvent[]): Promise<RollupAdjustment> {
  const counted = deleted.filter((e) => !e.is_bot);
  const perHour = new Map<string, { event: string; time: string; n: number }>();
  const userDays = new Map<string, { event: string; day: string; distinct_id: string }>();
  for (const e of counted) {
    add(perHour, e.event, e.hour, 1);
    userDays.set(`${e.event}\u0000${e.day}\u0000${e.distinct_id}`, { event: e.event, day: e.day, distinct_id: e.distinct_id });
  }
  const hourly = await subtractFromSlots(client, HOURLY, projectId, perHour);

  const days = [...userDays.values()];
  const params = [projectId, days.map((d) => d.event), days.map((d) => d.day), days.map((d) => d.distinct_id)];
  const touched = 'SELECT * FROM unnest($2::text[], $3::date[], $4::text[]) AS t(event, day, distinct_id)';
  const remaining = `FROM events e WHERE e.project_id = $1 AND e.distinct_id = d.distinct_id AND e.event = d.event AND NOT e.is_bot
      AND e."timestamp" >= (d.day::timestamp AT TIME ZONE 'UTC') AND e."timestamp" < ((d.day + 1)::timestamp AT TIME ZONE 'UTC')`;
  let userDaysRemoved = 0;
  const perDay = new Map<string, { event: string; time: string; n: number }>();
  if (days.length > 0) {
    await client.query(
      `SELECT 1 FROM event_user_days WHERE project_id = $1 AND (event, day, distinct_id) IN (${touched})
       ORDER BY event, day, distinct_id FOR UPDATE`,
      params,
    );
    const gone = await client.query<{ event: string; day: string; n: number }>(
      `WITH gone AS (
         DELETE FROM event_user_days d USING (${touched}) t
         WHERE d.project_id = $1 AND d.event = t.event AND d.day = t.day AND d.distinct_id = t.distinct_id
           AND NOT EXISTS (SELECT 1 ${remaining})
         RETURNING d.event, d.day
       )
       SELECT event, to_char(day, 'YYYY-MM-DD') AS day, count(*)::int AS n FROM gone GROUP BY 1, 2`,
      params,
    );
    for (const g of gone.rows) {
      add(perDay, g.event, g.day, g.n);
      userDaysRemoved += g.n;
    }
    // Rows that stay (the user has other events that day) start at the first remaining event.
    await client.query(
      `UPDATE event_user_days d SET first_at = m.first_at
       FROM (SELECT d.event, d.day, d.distinct_id, (SELECT min(e."timestamp") ${remaining}) AS first_at
             FROM (${touched}) d) m
       WHERE d.project_id = $1 AND d.event = m.event AND d.day = m.day AND d.distinct_id = m.distinct_id
         AND m.first_at IS NOT NULL AND d.first_at <> m.first_at`,
      params,
    );
  }
  const daily = await subtractFromSlots(client, DAILY_USERS, projectId, perDay);
  return {
    hourlyEventsSubtracted: hourly.subtracted,
    hourlyRowsRemoved: hourly.removed,
    userDaysRemoved,
    dailyUsersSubtracted: daily.subtracted,
    dailyRowsRemoved: daily.removed,
  };
}
