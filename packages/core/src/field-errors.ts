import type { z } from 'zod';
import type { FieldError } from './errors.ts';

/** Most problems listed for one event or request; the rest are counted in one last entry. */
export const MAX_FIELD_ERRORS = 20;
/** Longest field name quoted back in a path or message. */
const MAX_QUOTED_KEY = 100;

/**
 * Turns zod issues into the `{path, message}` list clients get, with plain-language messages.
 * The list is bounded (an object with 10,000 unknown fields gets 20 entries and a count, not a
 * 700 KB answer), and so is each quoted field name.
 */
export function toFieldErrors(error: z.ZodError, basePath: (string | number)[] = []): FieldError[] {
  const all = fieldErrorsOf(error, basePath);
  if (all.length <= MAX_FIELD_ERRORS) return all;
  const shown = all.slice(0, MAX_FIELD_ERRORS - 1);
  shown.push({ path: '', message: `and ${all.length - shown.length} more problems` });
  return shown;
}

function fieldErrorsOf(error: z.ZodError, basePath: (string | number)[]): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = formatPath([...basePath, ...issue.path]);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys.slice(0, MAX_FIELD_ERRORS)) {
        const quoted = key.length > MAX_QUOTED_KEY ? `${key.slice(0, MAX_QUOTED_KEY)}…` : key;
        out.push({ path: formatPath([...basePath, ...issue.path, quoted]), message: `unknown field "${quoted}" is not allowed` });
      }
      if (issue.keys.length > MAX_FIELD_ERRORS) {
        out.push({
          path: formatPath([...basePath, ...issue.path]),
          message: `${issue.keys.length - MAX_FIELD_ERRORS} more unknown fields`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_type') {
      // zod leaves the input out of issues; its default message names what it received.
      const received = /received (\w+)/.exec(issue.message)?.[1];
      const custom = issue.message.startsWith('Invalid input') ? undefined : issue.message;
      const got = received === 'array' ? 'an array' : received === 'object' ? 'an object' : received;
      if (received === 'undefined') out.push({ path, message: 'is required' });
      else out.push({ path, message: `${custom ?? `must be ${article(issue.expected)}`}${got ? `, got ${got}` : ''}` });
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

function formatPath(path: PropertyKey[]): string {
  let s = '';
  for (const part of path) {
    if (typeof part === 'number') s += `[${part}]`;
    else s += s === '' ? String(part) : `.${String(part)}`;
  }
  return s;
}

function article(expected: string): string {
  if (expected === 'record' || expected === 'object') return 'a JSON object';
  if (expected === 'array') return 'an array';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
