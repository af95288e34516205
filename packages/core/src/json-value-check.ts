import type { FieldError } from './errors.ts';

/** Limits on a free-form JSON object such as an event's `properties`. */
export interface JsonLimits {
  /** Deepest nesting allowed; the object itself is level 1. */
  maxDepth: number;
  /** Largest serialized size in bytes (UTF-8). */
  maxBytes: number;
}

/**
 * Checks a parsed JSON object for what PostgreSQL `jsonb` cannot store or what would be unsafe to
 * handle later: NUL characters and unpaired surrogates (jsonb rejects both, so they would poison
 * the worker), non-finite numbers (JSON.parse turns 1e400 into Infinity, which would be written
 * as null and silently change the value), `__proto__` keys (a prototype-pollution vector for any
 * consumer that merges objects), and nesting beyond `maxDepth`. Returns the serialized form when
 * the value is acceptable, so the caller never serializes twice.
 */
export function checkJsonObject(
  value: Record<string, unknown>,
  limits: JsonLimits,
  basePath: string,
): { ok: true; json: string } | { ok: false; errors: FieldError[] } {
  // First the structure (depth, numbers, `__proto__`), which bounds what JSON.stringify recurses
  // into. The strings are checked through the JSON: it writes NUL as \u0000 and an unpaired
  // surrogate as \udXXX, so a JSON without any "\u" holds no string to look at one by one.
  // Anything suspect is walked again with every check, so the errors come in document order.
  const structure: FieldError[] = [];
  walk(value, 1, basePath, undefined, limits.maxDepth, structure, false);
  const json = structure.length > 0 ? undefined : JSON.stringify(value);
  if (json === undefined || json.includes('\\u')) {
    const errors: FieldError[] = [];
    walk(value, 1, basePath, undefined, limits.maxDepth, errors, true);
    if (errors.length > 0 || json === undefined) return { ok: false, errors };
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.maxBytes) {
    return {
      ok: false,
      errors: [{ path: basePath, message: `is ${bytes} bytes serialized; the limit is ${limits.maxBytes} bytes` }],
    };
  }
  return { ok: true, json };
}

const MAX_ERRORS = 10;

/**
 * Checks `value`, found at `parent` under `key` (no key: `parent` is its own path), and with
 * `checkText` its strings and keys too. The path of a value is built only when it is needed, for
 * an error or a nested object or array, so the common valid leaf costs no string.
 */
function walk(
  value: unknown,
  depth: number,
  parent: string,
  key: string | number | undefined,
  maxDepth: number,
  errors: FieldError[],
  checkText: boolean,
): void {
  if (errors.length >= MAX_ERRORS) return;
  if (typeof value === 'string') {
    if (!checkText) return;
    const problem = textProblem(value);
    if (problem) errors.push({ path: pathOf(parent, key), message: problem });
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) errors.push({ path: pathOf(parent, key), message: 'number is out of range (not finite)' });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const path = pathOf(parent, key);
  if (depth > maxDepth) {
    errors.push({ path, message: `is nested deeper than ${maxDepth} levels` });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], depth + 1, path, i, maxDepth, errors, checkText);
    return;
  }
  for (const name of Object.keys(value)) {
    if (name === '__proto__') {
      errors.push({ path: pathOf(path, name), message: 'the key "__proto__" is not allowed' });
      continue;
    }
    const keyProblem = checkText ? textProblem(name) : undefined;
    if (keyProblem) {
      errors.push({ path: pathOf(path, name), message: `key ${keyProblem}` });
      continue;
    }
    walk((value as Record<string, unknown>)[name], depth + 1, path, name, maxDepth, errors, checkText);
  }
}

/** `parent.key`, `parent[index]`, or `parent` itself when there is no key. */
function pathOf(parent: string, key: string | number | undefined): string {
  if (key === undefined) return parent;
  return typeof key === 'number' ? `${parent}[${key}]` : `${parent}.${key}`;
}

/** Why a string cannot be stored in PostgreSQL text/jsonb, or undefined when it can. */
export function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (!s.isWellFormed()) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}
