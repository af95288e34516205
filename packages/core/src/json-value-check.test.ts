import { describe, expect, it } from 'vitest';
import { checkJsonObject } from './json-value-check.ts';

const limits = { maxDepth: 10, maxBytes: 32 * 1024 };
const nest = (levels: number): Record<string, unknown> => {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) v = { d: v };
  return v;
};

describe('checkJsonObject', () => {
  it('accepts exactly 10 levels and refuses 11', () => {
    expect(checkJsonObject(nest(10), limits, 'properties').ok).toBe(true);
    const r = checkJsonObject(nest(11), limits, 'properties');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toBe('is nested deeper than 10 levels');
  });

  it('counts arrays as levels too', () => {
    let v: unknown = 1;
    for (let i = 0; i < 10; i++) v = [v];
    expect(checkJsonObject({ a: v }, limits, 'p').ok).toBe(false);
  });

  it('measures size in UTF-8 bytes and returns the serialized form', () => {
    const ok = checkJsonObject({ s: 'é'.repeat(100) }, limits, 'p');
    expect(ok).toEqual({ ok: true, json: JSON.stringify({ s: 'é'.repeat(100) }) });
    // 17,000 two-byte characters: under 32 KiB in UTF-16 units, over it in UTF-8 bytes.
    const big = checkJsonObject({ s: 'é'.repeat(17_000) }, limits, 'p');
    expect(big.ok).toBe(false);
  });

  it('refuses what PostgreSQL jsonb cannot store or what would change silently', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ a: 'x\u0000y' }, 'p.a', 'NUL'],
      [{ 'k\u0000': 1 }, 'p.k\u0000', 'NUL'],
      [{ a: '\udc00' }, 'p.a', 'surrogates'],
      [{ a: [1, Infinity] }, 'p.a[1]', 'not finite'],
      [{ a: { b: [{ c: 'x\u0000' }] } }, 'p.a.b[0].c', 'NUL'],
      [JSON.parse('{"__proto__": {"polluted": true}}'), 'p.__proto__', '__proto__'],
    ];
    for (const [value, path, fragment] of cases) {
      const r = checkJsonObject(value, limits, 'p');
      expect(r.ok, path).toBe(false);
      if (!r.ok) expect(r.errors[0]).toEqual({ path, message: expect.stringContaining(fragment) });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts text that only looks suspect in JSON: a backslash before a u, control characters, surrogate pairs', () => {
    for (const value of [{ path: 'C:\\users\\u0000' }, { tab: 'a\tb\u0001' }, { emoji: '\ud83d\ude00' }, { 'k\\u': ['\\ud800'] }]) {
      expect(checkJsonObject(value, limits, 'p')).toEqual({ ok: true, json: JSON.stringify(value) });
    }
  });

  it('reports problems of structure and of text together, in document order', () => {
    const r = checkJsonObject({ a: 'x\u0000', b: Infinity, c: { d: '\udc00' } }, limits, 'p');
    expect(r.ok || r.errors.map((e) => e.path)).toEqual(['p.a', 'p.b', 'p.c.d']);
  });

  it('reports at most 10 problems', () => {
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'x\u0000']));
    const r = checkJsonObject(many, limits, 'p');
    expect(r.ok || r.errors.length).toBe(10);
  });
});
