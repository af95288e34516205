import type pg from 'pg';
import { EapError } from '@eap/core';

export interface QueryRunnerOptions {
  /** The query API's own pool, so slow queries never starve ingest key lookups. */
  pool: pg.Pool;
  /** statement_timeout of every statement, in ms. */
  timeoutMs: number;
  /**
   * idle_in_transaction_session_timeout of the query transaction, in ms: PostgreSQL ends a
   * transaction this process left open and idle (a stalled process), freeing its snapshot and
   * connection. Default: the statement timeout.
   */
  idleInTransactionTimeoutMs?: number;
  /** work_mem of every query, in MiB. */
  workMemMb: number;
}

/** A client inside a query transaction, with the session time zone set to the query's. */
export type QueryClient = Pick<pg.PoolClient, 'query'>;

/** Formats a timestamptz as ISO 8601 in the session time zone (the query's), e.g. 2026-03-08T00:00:00-05:00. */
export const isoLocal = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')`;
/** Formats a timestamptz as ISO 8601 in UTC with microseconds (exact, for cursors and times sent back as parameters). */
export const isoUtc = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Runs query API work in a read-only transaction with `statement_timeout`,
 * `idle_in_transaction_session_timeout`, `work_mem` and the session time zone set locally (they
 * end with the transaction, so a pooled connection never carries them to the next request). A
 * statement cancelled by the timeout, or a transaction ended for idling, becomes 504
 * QUERY_TIMEOUT; PostgreSQL refusing a value (a time zone, a date out of range) becomes 400.
 */
export function createQueryRunner(options: QueryRunnerOptions) {
  const idleMs = options.idleInTransactionTimeoutMs ?? options.timeoutMs;
  let zones: Promise<Set<string>> | undefined;

  /** Names PostgreSQL knows (pg_timezone_names), loaded once per process. */
  function knownZones(): Promise<Set<string>> {
    zones ??= options.pool
      .query<{ name: string }>('SELECT name FROM pg_timezone_names')
      .then(({ rows }) => new Set(rows.map((r) => r.name)))
      .catch((error: unknown) => {
        zones = undefined;
        throw error;
      });
    return zones;
  }

  /** Refuses a time zone PostgreSQL does not know, with a 400 naming the field. */
  async function checkTimezone(timezone: string): Promise<void> {
    if (timezone === 'UTC') return;
    if (!(await knownZones()).has(timezone)) {
      throw new EapError('INVALID_QUERY', `timezone: unknown time zone "${timezone}"; use an IANA name such as Europe/Berlin or UTC`, {
        details: [{ path: 'timezone', message: `unknown time zone "${timezone}"` }],
      });
    }
  }

  async function run<T>(timezone: string, work: (client: QueryClient) => Promise<T>): Promise<T> {
    await checkTimezone(timezone);
    const client = await options.pool.connect();
    let broken = false;
    // A checked-out client has no pool listener: an error between statements (PostgreSQL ending
    // an idle transaction) would otherwise be an unhandled 'error' event that kills the process.
    let lost: unknown;
    const onError = (error: unknown) => {
      // The first error says why (25P03); "Connection terminated" follows it.
      lost ??= error;
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(
        `SELECT set_config('statement_timeout', $1, true), set_config('work_mem', $2, true), set_config('TimeZone', $3, true),
                set_config('jit', 'off', true), set_config('idle_in_transaction_session_timeout', $4, true)`,
        [`${options.timeoutMs}ms`, `${options.workMemMb}MB`, timezone, `${idleMs}ms`],
      );
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw toQueryError((lost as { code?: unknown } | undefined)?.code === '25P03' ? lost : error, options.timeoutMs);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  return { run, checkTimezone };
}
export type QueryRunner = ReturnType<typeof createQueryRunner>;

/** Maps PostgreSQL errors of a query to the API's errors; anything else is passed on unchanged. */
export function toQueryError(error: unknown, timeoutMs: number): unknown {
  if (error instanceof EapError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === '25P03') {
    return new EapError('QUERY_TIMEOUT', 'the query transaction was left idle and PostgreSQL ended it; retry the query', { cause: error });
  }
  if (code === '57014') {
    return new EapError(
      'QUERY_TIMEOUT',
      `the query ran longer than ${timeoutMs} ms and was stopped; narrow the time range or the number of series`,
      {
        cause: error,
      },
    );
  }
  // 22xxx data exceptions come from values in the request (an out-of-range date, a number
  // PostgreSQL cannot represent): the request is at fault, not the server.
  if (typeof code === 'string' && code.startsWith('22')) {
    return new EapError('INVALID_QUERY', `PostgreSQL refused a value of the query: ${(error as Error).message}`, { cause: error });
  }
  return error;
}
