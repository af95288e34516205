import { DLQ_STREAM, EapError, entryEventJsons, entryEvents, joinEntryEvents } from '@eap/core';
import type { DrainScope, RedisCaller } from './pipeline-drain.ts';

/** What a deletion did to the dead-letter stream. */
export interface DeadLetterRemoval {
  /**
   * Events of the deleted subject removed from the DLQ: whole letters, and events taken out of
   * letters that hold the events of several people (a letter of a whole entry).
   */
  removed: number;
  /** Events kept because their data is missing or not JSON, so nobody can be told from it. */
  unreadable: number;
}

/** Letters read per XRANGE: the scan holds at most this many in memory. */
const PAGE = 500;

type Subject = { projectId: string; distinctId: string | undefined } | undefined;

/**
 * Who each event of a letter belongs to, from the original entry's `data` field (kept byte for
 * byte by the worker: the event's JSON in version 1, the first of each event's three lines in
 * versions 2 and 3); undefined for an event that cannot be read. Parsed, not validated: a letter
 * that failed the event schema still names its project and distinct id, and is personal data.
 */
function subjectsOf(fields: string[]): Subject[] {
  let data: string | undefined;
  let version: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'data') data = fields[i + 1];
    else if (fields[i] === 'v') version = fields[i + 1];
  }
  if (data === undefined) return [undefined];
  return entryEventJsons(version, data).map((json): Subject => {
    let event: unknown;
    try {
      event = JSON.parse(json);
    } catch {
      return undefined;
    }
    if (typeof event !== 'object' || event === null) return undefined;
    const { project_id: projectId, distinct_id: distinctId } = event as Record<string, unknown>;
    if (typeof projectId !== 'string') return undefined;
    return { projectId, distinctId: typeof distinctId === 'string' ? distinctId : undefined };
  });
}

/**
 * The fields of a letter without the events at `gone`: the same metadata, and the remaining
 * events as the entry's data. Undefined when the letter does not split into its events.
 */
function withoutEvents(fields: string[], gone: ReadonlySet<number>): string[] | undefined {
  let kept: string[];
  try {
    kept = entryEvents(fields).filter((_, index) => !gone.has(index));
  } catch {
    return undefined;
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    if (name === 'n') out.push(name, String(kept.length));
    else if (name === 'data') out.push(name, joinEntryEvents(kept));
    else out.push(name, fields[i + 1]!);
  }
  return out;
}

/**
 * Removes from the dead-letter stream (`eap:dlq`) the events of a deleted person's distinct ids
 * in a project, or of a whole project, so `eap dlq replay` cannot write them back and the letters
 * themselves do not outlive the deletion. Walks the DLQ oldest first, PAGE letters per XRANGE.
 * A letter whose events are all the subject's is XDELed; a letter that also holds other people's
 * events (a whole entry, dead-lettered by a worker that could not read it) is appended again
 * without the subject's events, then the original is XDELed. An event that cannot be read is kept
 * and counted (as is one of the project without a distinct id, in a person's deletion). Redis
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
          const subjects = subjectsOf(fields);
          const gone = new Set<number>();
          for (const [index, subject] of subjects.entries()) {
            if (subject === undefined) result.unreadable++;
            else if (subject.projectId !== scope.projectId) continue;
            else if (distinctIds === undefined) gone.add(index);
            else if (subject.distinctId === undefined) result.unreadable++;
            else if (distinctIds.has(subject.distinctId)) gone.add(index);
          }
          if (gone.size === 0) continue;
          if (gone.size < subjects.length) {
            const rest = withoutEvents(fields, gone);
            // A letter that does not split is kept whole, and its events counted as unreadable.
            if (rest === undefined) {
              result.unreadable += gone.size;
              continue;
            }
            await redis.call('XADD', DLQ_STREAM, '*', ...rest);
          }
          doomed.push(id);
          result.removed += gone.size;
        }
        if (doomed.length > 0) await redis.call('XDEL', DLQ_STREAM, ...doomed);
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
