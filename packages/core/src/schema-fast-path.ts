import type { z } from 'zod';
import { textProblem } from './json-value-check.ts';

/**
 * Pieces of the hand-written shortcuts in front of the hottest zod parses (the API's event,
 * the worker's stream entry). A shortcut accepts only what its schema certainly accepts and
 * leaves everything else to the schema; every bound it checks is read from the schema.
 */

/**
 * An object as JSON.parse makes them, without an own `__proto__` key (zod's record and object
 * parsers drop that key from their copy; other prototypes are left to the schema too). Stricter
 * than the SDK mappers' `isPlainObject`, which only rules out null and arrays before the schema
 * checks the rest.
 */
export function isJsonParsedObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && !Object.hasOwn(value, '__proto__')
  );
}

/**
 * The length bounds of a zod string schema as a check; `storable` adds the text rules of the
 * event schema's `storableText` (no NUL, no unpaired surrogates).
 */
export function boundedText(schema: z.ZodType, options: { storable: boolean }) {
  const { minLength, maxLength } = schema as z.ZodString;
  if (maxLength === null) throw new Error('a text field without a maximum length has no shortcut');
  const min = minLength ?? 0;
  return (value: unknown): value is string =>
    typeof value === 'string' &&
    value.length >= min &&
    value.length <= maxLength &&
    (!options.storable || textProblem(value) === undefined);
}
