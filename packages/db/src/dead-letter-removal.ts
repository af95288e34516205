import { DLQ_STREAM, EapError, entryEventJson } from '@eap/core';
import type { DrainScope, RedisCaller } from './pipeline-drain.ts';

/** What a deletion did to the dead-letter stream. */
export interface DeadLetterRemoval {
  /** Letters of the deleted subject removed from the DLQ. */
  removed: number;
  /** Letters kept because their event data is missing or not JSON, so nobody can be told from it. */
  unreadable: number;
}

/** Letters read per XRANGE: the scan holds at most this many in memory. */
const PAGE = 500;

/**
 * Who a letter's event belongs to, from the original entry's `data` field (kept byte for byte by
 * the worker: the event's JSON, or in version 2 its first line); undefined when it cannot be
 * read. Parsed, not validated: a letter that failed the event schema still names its project and
 * distinct id, and is personal data.
 */
function subjectOf(fields: string[]): { projectId: string; distinctId: string | undefined } | undefined {
  let data: string | undefined;
  let version: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'data') data = fields[i + 1];
    else if (fields[i] === 'v') version = fields[i + 1];
  }
  if (data === undefined) return undefined;
  let event: unknown;
  try {
    event = JSON.parse(entryEventJson(version, data));
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null) return undefined;
  const { project_id: projectId, distinct_id: distinctId } = event as Record<string, unknown>;
  if (typeof projectId !== 'string') return undefined;
  return { projectId, distinctId: typeof distinctId === 'string' ? distinctId : undefined };
}

/**
 * Removes from the dead-letter stream (`eap:dlq`) the letters of a deleted person's distinct ids
 * in a project, or of a whole project, so `eap dlq replay` cannot write them back and the letters
 * themselves do not outlive the deletion. Walks the DLQ oldest first, PAGE letters per XRANGE,
 * and XDELs the subject's letters of each page. A letter whose data cannot be read is kept and
 * counted (as is one of the project without a distinct id, in a person's deletion). Redis
 * failures throw STREAM_UNAVAILABLE: the deletion did not remove every trace and must be run again.
 */
export function createDeadLetterRemoval(redis: RedisCaller) {
  return async function removeDeadLetters(scope: DrainScope): Promise<DeadLetterRemoval> {
    const distinctIds = scope.distinctIds ? new Set(scope.distinctIds) : undefined;
    const result: DeadLetterRemoval = { removed: 0, unreadable: 0 };
    let start = '-';
    try {
      for (;;) {
        const page = (await redis.call('XRANGE', DLQ_STREAM, start, '+', 'COUNT', PAGE)) as [string, string[]][];
        const doomed: string[] = [];
        for (const [id, fields] of page) {
          const subject = subjectOf(fields);
          if (subject === undefined) result.unreadable++;
          else if (subject.projectId !== scope.projectId) continue;
          else if (distinctIds === undefined) doomed.push(id);
          else if (subject.distinctId === undefined) result.unreadable++;
          else if (distinctIds.has(subject.distinctId)) doomed.push(id);
        }
        if (doomed.length > 0) result.removed += Number(await redis.call('XDEL', DLQ_STREAM, ...doomed));
        if (page.length < PAGE) return result;
        start = `(${page[page.length - 1]![0]}`;
      }
    } catch (error) {
      throw new EapError(
        'STREAM_UNAVAILABLE',
        `Redis: ${(error as Error).message}; the dead-letter stream was not cleaned, run the deletion again`,
        { retryAfterSeconds: 2, cause: error },
      );
    }
  };
}
export type RemoveDeadLetters = ReturnType<typeof createDeadLetterRemoval>;
