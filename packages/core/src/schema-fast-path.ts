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

/**
 * The check of a zod string format whose only check is its pattern (`z.uuid()`,
 * `z.iso.datetime()`), as a plain regular-expression test: the schema's own pattern, without the
 * result object and issue list `safeParse` allocates for every value. Throws when the schema has
 * any other check, so a check added to such a field later cannot be skipped silently.
 */
export function formatPattern(schema: z.ZodType): (value: unknown) => value is string {
  const def = (schema as unknown as { _zod: { def: { type: string; check?: string; pattern?: unknown; checks?: unknown[] } } })._zod.def;
  const { pattern } = def;
  if (def.type !== 'string' || def.check !== 'string_format' || !(pattern instanceof RegExp) || (def.checks?.length ?? 0) > 0)
    throw new Error('formatPattern takes a string format whose only check is its pattern');
  if (pattern.global || pattern.sticky) throw new Error('formatPattern takes a pattern without the g or y flag');
  return (value: unknown): value is string => typeof value === 'string' && pattern.test(value);
}
