import { expect } from 'vitest';
import type { z } from 'zod';
import { createRandom, type Random } from '@eap/traffic';

/**
 * Runs a schema shortcut and its schema over `cases` generated values: the shortcut must never
 * accept what the schema refuses, and what it accepts must `agree` with the schema's result.
 * Returns how many values the schema accepted and how many of those the shortcut took.
 */
export function shortcutAgainstSchema<T>(options: {
  seed: number;
  cases: number;
  generate: (r: Random) => unknown;
  schema: z.ZodType<T>;
  shortcut: (value: unknown) => T | undefined;
  agree: (fromShortcut: T, fromSchema: T, value: unknown) => void;
}): { valid: number; taken: number } {
  const r = createRandom(options.seed);
  let valid = 0;
  let taken = 0;
  for (let i = 0; i < options.cases; i++) {
    const value = options.generate(r);
    const schema = options.schema.safeParse(value);
    const accepted = options.shortcut(value);
    if (schema.success) valid++;
    if (accepted === undefined) continue;
    taken++;
    if (!schema.success) throw new Error(`the shortcut accepted what the schema refuses: ${JSON.stringify(value)}`);
    options.agree(accepted, schema.data, value);
  }
  // Both kinds occurred.
  expect(valid).toBeGreaterThan(options.cases / 20);
  expect(valid).toBeLessThan(options.cases);
  return { valid, taken };
}

/**
 * Builds an object field by field for the generated cases: `set` leaves a field out with the
 * share `absent`, else gives it a valid value with the share `valid` and an invalid one otherwise.
 */
export function generatedFields(r: Random, shares: { absent: number; valid: number }) {
  const value: Record<string, unknown> = {};
  function set(key: string, valid: readonly unknown[], invalid: readonly unknown[], absent = shares.absent): void {
    if (r.next() < absent) return;
    value[key] = r.next() < shares.valid ? r.pick(valid) : r.pick(invalid);
  }
  return { value, set };
}
