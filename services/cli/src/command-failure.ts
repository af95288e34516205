import { ConfigError } from '@eap/core';
import { MigrationError } from '@eap/db';
import pg from 'pg';

/** A failure the user can act on (a server out of reach, a bad file): `eap: <message>`, exit code 1. */
export class CommandFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailure';
  }
}

/**
 * The cause, in one line, of an error that comes from outside the program: the system (connection
 * refused, unknown host, address in use, file not readable) or a server's answer (PostgreSQL or
 * Redis refusing a login or a statement). Undefined for anything else, which is a defect.
 */
function outsideCause(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof pg.DatabaseError) {
    // 42P01 undefined_table: the schema is not there yet.
    const hint = error.code === '42P01' ? '; has `eap migrate up` run?' : '';
    return `${error.message} (SQLSTATE ${error.code}${hint})`;
  }
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof syscall === 'string') return error.message;
  // fetch() reports the network error (a system error, or e.g. "bad port") as its cause.
  if (error.cause instanceof Error)
    return outsideCause(error.cause) ?? (error.message === 'fetch failed' ? error.cause.message : undefined);
  if (error.name === 'ReplyError' || error.name === 'MaxRetriesPerRequestError') return error.message;
  // ioredis, when the connection closes; the system error behind it went to 'error' listeners.
  if (error.message === 'Connection is closed.') return 'Redis connection closed (is REDIS_URL reachable?)';
  // pg and pg-pool, when a connection attempt times out or a server goes away.
  if (/^(timeout exceeded when trying to connect|Connection terminated)/.test(error.message)) return error.message;
  return undefined;
}

/** Runs `fn`; an error from outside the program becomes a CommandFailure `<what>: <cause>`. */
export async function reaching<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const cause = outsideCause(error);
    throw cause === undefined ? error : new CommandFailure(`${what}: ${cause}`);
  }
}

/**
 * What `eap` prints for a failed command: one line (the configuration error, one line per bad
 * variable) for a failure the user can act on, the stack for a defect, whose stack helps fix it.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof CommandFailure || error instanceof ConfigError || error instanceof MigrationError) return error.message;
  return outsideCause(error) ?? (error instanceof Error ? (error.stack ?? error.message) : String(error));
}
