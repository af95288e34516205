import type { PropertyFilter } from './query.schemas.ts';

/**
 * Collects bind parameters while SQL text is assembled: `add(value)` returns the placeholder
 * (`$3`). Only fixed SQL fragments written in this code are ever concatenated; every value that
 * comes from a request — event names, property names, filter values, times — goes in here.
 */
export function createParams(initial: unknown[] = []) {
  const values: unknown[] = [...initial];
  return {
    values,
    add(value: unknown): string {
      values.push(value);
      return `$${values.length}`;
    },
  };
}
export type Params = ReturnType<typeof createParams>;

/** `properties -> key` as a jsonb expression, the key bound as a parameter. */
export const propertyJson = (params: Params, key: string, alias = '') => `${alias}properties -> ${params.add(key)}::text`;

/**
 * The numeric value of a property, or NULL when it is absent or not a JSON number (strings such
 * as "12" are not numbers: they are ignored by sum, avg and numeric comparisons).
 */
export function propertyNumber(params: Params, key: string, alias = ''): string {
  const k = params.add(key);
  return `(CASE WHEN jsonb_typeof(${alias}properties -> ${k}::text) = 'number' THEN (${alias}properties ->> ${k}::text)::numeric END)`;
}

/** Escapes LIKE wildcards so `contains` matches the text literally. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const COMPARISONS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** A filter as built in code: `source` may be left out (event). */
export type Filter = Omit<PropertyFilter, 'source'> & { source?: PropertyFilter['source'] };

/**
 * One filter as a SQL condition on `properties`, or on `person_properties` for a person filter
 * (a column of eventSource(); of the row aliased `alias`).
 */
export function filterCondition(params: Params, filter: Filter, alias = ''): string {
  const k = params.add(filter.property);
  const column = `${alias}${filter.source === 'person' ? 'person_properties' : 'properties'}`;
  const value = `${column} -> ${k}::text`;
  switch (filter.operator) {
    case 'eq':
      return `(${value} = ${params.add(JSON.stringify(filter.value))}::jsonb)`;
    case 'neq':
      return `(${value} IS DISTINCT FROM ${params.add(JSON.stringify(filter.value))}::jsonb)`;
    case 'contains':
      return `(${column} ->> ${k}::text ILIKE '%' || ${params.add(likeLiteral(String(filter.value)))} || '%')`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return `(CASE WHEN jsonb_typeof(${value}) = 'number' THEN (${column} ->> ${k}::text)::numeric END ${COMPARISONS[filter.operator]} ${params.add(filter.value)}::numeric)`;
    case 'is_set':
      return `(coalesce(jsonb_typeof(${value}), 'null') <> 'null')`;
    case 'is_not_set':
      return `(coalesce(jsonb_typeof(${value}), 'null') = 'null')`;
  }
}

/** Every filter joined with AND, as ` AND …` to append to a WHERE clause ('' when none). */
export function filtersSql(params: Params, filters: readonly Filter[] | undefined, alias = ''): string {
  if (!filters || filters.length === 0) return '';
  return filters.map((f) => ` AND ${filterCondition(params, f, alias)}`).join('');
}
