import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents } from './support/query-fixtures.ts';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { createTestProject } from './support/test-api.ts';

// The Product overview dashboard queries PostgreSQL directly: its SQL runs here, with Grafana's
// macros expanded as Grafana does, against rollups built from known events.
const dashboard = JSON.parse(readFileSync(new URL('../deploy/grafana/dashboards/product-overview.json', import.meta.url), 'utf8'));
const sqlOf = (title: string): string => dashboard.panels.find((p: { title: string }) => p.title === title).targets[0].rawSql;

let db: TestDatabase;
let projectId: string;
const from = '2026-07-01T00:00:00Z';
const to = '2026-07-02T23:59:59Z';

function expand(sql: string): string {
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, `$1 BETWEEN '${from}' AND '${to}'`)
    .replaceAll('$__timeFrom()', `'${from}'`)
    .replaceAll('$__timeTo()', `'${to}'`)
    .replaceAll('$project', projectId);
}

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  projectId = (await createTestProject(db.pool, 'dashboard')).project_id;
  const other = await createTestProject(db.pool, 'other');
  await insertEvents(db.pool, other.project_id, [{ event: 'view', user: 'x', at: '2026-07-01T10:00:00Z' }]);
  await insertEvents(db.pool, projectId, [
    { event: 'view', user: 'a', at: '2026-07-01T10:00:00Z' },
    { event: 'view', user: 'a', at: '2026-07-01T10:30:00Z' },
    { event: 'click', user: 'a', at: '2026-07-01T11:00:00Z' },
    { event: 'view', user: 'b', at: '2026-07-02T09:00:00Z' },
    { event: 'view', user: 'c', at: '2026-07-05T09:00:00Z' },
  ]);
});

afterAll(async () => {
  await db?.drop();
});

describe('Product overview dashboard SQL', () => {
  it('counts events per hour and name for the chosen project', async () => {
    const { rows } = await db.pool.query(expand(sqlOf('Events per hour by name')));
    expect(rows.map((r) => [new Date(r.time).toISOString(), r.metric, Number(r.value)])).toEqual([
      ['2026-07-01T10:00:00.000Z', 'view', 2],
      ['2026-07-01T11:00:00.000Z', 'click', 1],
      ['2026-07-02T09:00:00.000Z', 'view', 1],
    ]);
  });

  it('counts daily active users across events', async () => {
    const { rows } = await db.pool.query(expand(sqlOf('Daily active users')));
    expect(rows.map((r) => [new Date(r.time).toISOString(), Number(r.users)])).toEqual([
      ['2026-07-01T00:00:00.000Z', 1],
      ['2026-07-02T00:00:00.000Z', 1],
    ]);
  });

  it('lists top events with their users', async () => {
    const { rows } = await db.pool.query(expand(sqlOf('Top events')));
    expect(rows.map((r) => [r.event, Number(r.events), Number(r.users)])).toEqual([
      ['view', 3, 2],
      ['click', 1, 1],
    ]);
  });
});
