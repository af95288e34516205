import type { FieldError } from '@eap/core';

/**
 * A raw EAP event as the ingest service takes it (`IngestEvent` in @eap/core validates it there):
 * what every protocol mapper produces.
 */
export interface RawEvent {
  event: unknown;
  distinct_id: unknown;
  event_id?: unknown;
  timestamp?: unknown;
  session_id?: unknown;
  properties?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

/**
 * One protocol message after mapping: the raw event to ingest, or why it cannot be one. Error
 * paths name the protocol's own fields (`userId`, `user_id`, ...), so the client recognises them.
 */
export type MappedMessage = { ok: true; event: RawEvent } | { ok: false; eventId?: string; errors: FieldError[] };

/** The message of an error for a field the protocol requires and the message lacks. */
export const REQUIRED = 'is required';

export function unmappable(errors: FieldError[], eventId?: unknown): MappedMessage {
  return typeof eventId === 'string' ? { ok: false, eventId, errors } : { ok: false, errors };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * An identifier as SDKs send it: a non-empty string, or a number (some SDKs send numeric user
 * ids), as its decimal string. Anything else is absent.
 */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Milliseconds since the epoch as an ISO date-time, or undefined when not a usable time. */
export function isoFromMs(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(Math.round(ms));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Drops undefined values, so absent fields stay absent in the raw event (the schema is strict). */
export function compact<T extends object>(object: T): T {
  const record = object as Record<string, unknown>;
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return object;
}
