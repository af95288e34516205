import { describe, expect, it } from 'vitest';
import { createParams, filtersSql, likeLiteral } from './query-filters.ts';
import { FILTER_OPERATORS, type PropertyFilter } from './query.schemas.ts';

describe('property filters', () => {
  const hostile = "plan'); DROP TABLE events; --";

  it.each(FILTER_OPERATORS)('puts every request value in bind parameters, never in the SQL (%s)', (operator) => {
    const p = createParams(['project']);
    const filter = {
      property: hostile,
      operator,
      value: operator.startsWith('g') || operator.startsWith('l') ? 5 : hostile,
    } as PropertyFilter;
    if (operator === 'is_set' || operator === 'is_not_set') delete filter.value;
    const sql = filtersSql(p, [filter]);
    expect(sql).not.toContain('DROP');
    expect(sql).toMatch(/^ AND \(/);
    expect(p.values[0]).toBe('project');
    expect(p.values[1]).toBe(hostile);
  });

  it('escapes LIKE wildcards so contains matches literally', () => {
    expect(likeLiteral('50%_off\\')).toBe('50\\%\\_off\\\\');
  });

  it('joins filters with AND and numbers placeholders in order', () => {
    const p = createParams();
    const sql = filtersSql(p, [
      { property: 'a', operator: 'eq', value: 1 },
      { property: 'b', operator: 'gt', value: 2 },
    ]);
    expect(sql).toContain('$1');
    expect(sql).toContain('$4');
    expect(p.values).toEqual(['a', '1', 'b', 2]);
    expect(filtersSql(createParams(), undefined)).toBe('');
  });
});
