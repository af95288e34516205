/**
 * How a PostgreSQL failure should be handled.
 * - `transient`: the database or the connection is the problem (down, restarting, reset,
 *   overloaded, serialization failure, deadlock, pool exhausted): retry the same work later.
 * - `data`: the rows are the problem (invalid value, constraint, too large): retrying the same
 *   rows fails again, so isolate them.
 */
export type PgErrorKind = 'transient' | 'data';

const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** Classifies an error thrown by `pg`; anything unrecognised is treated as transient (never DLQ by mistake). */
export function classifyPgError(error: unknown): PgErrorKind {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (TRANSIENT_NODE_CODES.has(code)) return 'transient';
    // SQLSTATE classes: 22 data exception, 23 integrity constraint, 42 syntax/undefined (bad
    // input such as a jsonb parse error surfaces as 22P02), 54 program limit (row too big).
    if (/^(22|23|54)/.test(code)) return 'data';
    // 08 connection, 40 serialization/deadlock, 53 insufficient resources, 57 operator
    // intervention (shutdown, cancel), 58 system error, 55 lock not available.
    if (/^(08|40|53|55|57|58|XX)/.test(code)) return 'transient';
  }
  return 'transient';
}

/** True for failures that mean "the database is unavailable right now" (a 503, not a 500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (TRANSIENT_NODE_CODES.has(code) || /^(08|57P0|53300)/.test(code))) return true;
  const message = (error as Error | null)?.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message);
}
