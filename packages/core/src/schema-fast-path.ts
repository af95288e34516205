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

/** String formats whose only check of their own is their pattern (zod's `ipv6` also parses the address as a URL). */
const PATTERN_ONLY_FORMATS = new Set(['datetime', 'uuid', 'ipv4']);

/**
 * The check of a zod string format (`z.uuid()`, `z.iso.datetime()`, `z.ipv4()`) as plain code:
 * the schema's own pattern, then its maximum and minimum lengths and its refinements, each read
 * from the schema, without the result object and issue list `safeParse` allocates for every value.
 * True exactly when every check passes, which is when the schema accepts the value. Throws on any
 * other kind of check, or a format that checks more than its pattern, so a check added to such a
 * field later cannot be skipped silently.
 */
export function formatCheck(schema: z.ZodType): (value: unknown) => value is string {
  const def = (schema as unknown as { _zod: { def: FormatDef } })._zod.def;
  const { pattern } = def;
  if (def.type !== 'string' || def.check !== 'string_format' || !PATTERN_ONLY_FORMATS.has(def.format ?? '') || !(pattern instanceof RegExp))
    throw new Error('formatCheck takes a string format whose own check is its pattern');
  if (pattern.global || pattern.sticky) throw new Error('formatCheck takes a pattern without the g or y flag');
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  const refinements: ((value: string) => unknown)[] = [];
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    if (c.check === 'max_length' && typeof c.maximum === 'number') max = Math.min(max, c.maximum);
    else if (c.check === 'min_length' && typeof c.minimum === 'number') min = Math.max(min, c.minimum);
    else if (c.check === 'custom' && typeof c.fn === 'function') refinements.push(c.fn);
    else throw new Error(`formatCheck cannot take a check of kind ${String(c.check)}`);
  }
  // Loops, not `every()` with an arrow: that made a closure per check, several per event on the
  // worker's and the API's hottest paths (benchmarks/profiles.md, "Twenty-sixth round").
  return (value: unknown): value is string => {
    if (typeof value !== 'string' || value.length > max || value.length < min || !pattern.test(value)) return false;
    for (const refine of refinements) if (refine(value) !== true) return false;
    return true;
  };
}

interface FormatDef {
  type: string;
  check?: string;
  format?: string;
  pattern?: unknown;
  checks?: { _zod: { def: { check?: string; maximum?: unknown; minimum?: unknown; fn?: (value: string) => unknown } } }[];
}
