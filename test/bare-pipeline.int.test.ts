import { describe, expect, it } from 'vitest';
import { CONSUMER_GROUP } from '@eap/core';
import { BARE_STREAM, BARE_TABLE } from '../bench/bare-pipeline/bare-stream.ts';
import { batchBodies } from '../bench/support/bench-data.ts';
import { spawnBarePipeline } from '../bench/support/bench-stack.ts';
import { createTestProject, waitFor } from './support/test-api.ts';
import { useDatabaseAndRedis } from './support/test-database.ts';

/**
 * The bare pipeline that `make bench-bare-pipeline` measures EAP against stores every event it
 * accepted, as the client sent it, and leaves its stream empty: otherwise its rate would mean
 * nothing.
 */
const backends = useDatabaseAndRedis();

describe('the bare pipeline of the benchmark', () => {
  it('stores each accepted event once, with its fields, and acknowledges and deletes its entries', async () => {
    const { db, redis } = backends;
    const projectId = (await createTestProject(db.pool)).project_id;
    await db.pool.query(`CREATE TABLE ${BARE_TABLE} (LIKE events INCLUDING ALL)`);
    const { ingest, writer } = await spawnBarePipeline({ redisUrl: redis.url, databaseUrl: db.url, projectId });
    try {
      const bodies = batchBodies(5, 100);
      for (const body of bodies) {
        const response = await fetch(`${ingest.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(response.status).toBe(202);
        expect(await response.json()).toEqual({ accepted: 100, rejected: [] });
      }
      type Sent = { event: string; distinct_id: string; session_id: string; properties: unknown; context: unknown };
      const sent = bodies.flatMap((body) => (JSON.parse(body) as { events: Sent[] }).events);
      const count = async () => Number((await db.pool.query(`SELECT count(*) AS n FROM ${BARE_TABLE}`)).rows[0].n);
      await waitFor(async () => (await count()) >= sent.length, 30_000, 'every accepted event stored');
      expect(await count()).toBe(sent.length);

      const { rows } = await db.pool.query<Sent & { project_id: string; event_id: string }>(
        `SELECT project_id, event_id, event, distinct_id, session_id, properties, context FROM ${BARE_TABLE}`,
      );
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(sent.length);
      expect(new Set(rows.map((r) => r.project_id))).toEqual(new Set([projectId]));
      // The same events, compared with their keys in one order (jsonb keeps its own).
      const canonical = ({ event, distinct_id, session_id, properties, context }: Sent) =>
        JSON.stringify([event, distinct_id, session_id, properties, context], (_key, value: unknown) =>
          value !== null && typeof value === 'object' && !Array.isArray(value)
            ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
            : value,
        );
      expect(rows.map(canonical).sort()).toEqual(sent.map(canonical).sort());

      // Acknowledged and deleted after the commit: nothing pending, nothing left.
      await waitFor(async () => (await redis.client.xlen(BARE_STREAM)) === 0, 10_000, 'the stream emptied');
      expect((await redis.client.xpending(BARE_STREAM, CONSUMER_GROUP))[0]).toBe(0);
    } finally {
      await Promise.all([ingest.stop(), writer.stop()]);
    }
  });
});
