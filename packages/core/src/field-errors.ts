import type { z } from 'zod';
import type { FieldError } from './errors.ts';

/** Turns zod issues into the `{path, message}` list clients get, with plain-language messages. */
export function toFieldErrors(error: z.ZodError, basePath: (string | number)[] = []): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = formatPath([...basePath, ...issue.path]);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath([...basePath, ...issue.path, key]), message: `unknown field "${key}" is not allowed` });
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
