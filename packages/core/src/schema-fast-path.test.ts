import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatCheck } from './schema-fast-path.ts';

describe('formatCheck', () => {
  const values: unknown[] = [
    '2026-11-29T08:00:00.000Z',
    '2026-11-29T08:00:00+02:00',
    '2026-11-29T08:00:00.1234567890Z',
    '0000-11-29T08:00:00Z',
    '2026-02-30T08:00:00Z',
    '2026-11-29 08:00:00Z',
    '0190a000-0000-7000-8000-000000000001',
    '0190a000-0000-7000-8000-00000000000',
    '10.1.2.3',
    '256.1.2.3',
    '::1',
    'not a value',
    '',
    42,
    null,
    undefined,
    {},
  ];

  it('accepts exactly what the format schema accepts, with its lengths and refinements', () => {
    const schemas = [
      z.iso.datetime({ offset: true }),
      z.iso
        .datetime({ offset: true })
        .max(29)
        .refine((s) => !s.startsWith('0000')),
      z.uuid(),
      z.uuid().min(37),
      z.ipv4(),
    ];
    for (const schema of schemas) {
      const check = formatCheck(schema);
      for (const value of values) expect(check(value), String(value)).toBe(schema.safeParse(value).success);
    }
  });

  it('leaves a value to the schema when a refinement returns anything but true', () => {
    const check = formatCheck(z.uuid().refine(() => 'yes'));
    expect(check('0190a000-0000-7000-8000-000000000001')).toBe(false);
  });

  it('refuses a format that checks more than its pattern, a check of another kind, or no format', () => {
    expect(() => formatCheck(z.ipv6())).toThrow(/own check is its pattern/);
    expect(() => formatCheck(z.uuid().trim())).toThrow(/check of kind/);
    expect(() => formatCheck(z.iso.datetime().regex(/2026/))).toThrow(/check of kind/);
    expect(() => formatCheck(z.string())).toThrow(/own check is its pattern/);
    expect(() => formatCheck(z.number())).toThrow(/own check is its pattern/);
  });
});
