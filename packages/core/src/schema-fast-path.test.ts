import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPattern } from './schema-fast-path.ts';

describe('formatPattern', () => {
  it('accepts exactly what the format schema accepts', () => {
    const values: unknown[] = [
      '2026-11-29T08:00:00.000Z',
      '2026-11-29T08:00:00+02:00',
      '2026-02-30T08:00:00Z',
      '2026-11-29 08:00:00Z',
      '0190a000-0000-7000-8000-000000000001',
      '0190a000-0000-7000-8000-00000000000',
      'not a value',
      '',
      42,
      null,
      undefined,
      {},
    ];
    for (const schema of [z.iso.datetime({ offset: true }), z.uuid()]) {
      const check = formatPattern(schema);
      for (const value of values) expect(check(value), String(value)).toBe(schema.safeParse(value).success);
    }
  });

  it('refuses a schema with more checks than its pattern, or none', () => {
    expect(() => formatPattern(z.iso.datetime().max(40))).toThrow(/only check is its pattern/);
    expect(() => formatPattern(z.uuid().refine((v) => v.startsWith('0')))).toThrow(/only check is its pattern/);
    expect(() => formatPattern(z.string())).toThrow(/only check is its pattern/);
    expect(() => formatPattern(z.number())).toThrow(/only check is its pattern/);
  });
});
