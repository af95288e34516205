import { afterAll, beforeAll } from 'vitest';
import { parseStreamGroups, shardBacklog, streamKeys } from '@eap/core';
import { type EapProcess, spawnApi, spawnWorker } from '../../support/pipeline-processes.ts';
import { createTestProject, TEST_ADMIN_TOKEN, waitFor } from '../../support/test-api.ts';
import { useDatabaseAndRedis } from '../../support/test-database.ts';

/** An event row as stored. */
export interface StoredEvent {
  event_id: string;
  event: string;
  distinct_id: string;
  timestamp: Date;
  sent_at: Date | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown> | null;
  is_bot: boolean;
}

/** A person with every distinct id linked to it. */
export interface StoredPerson {
  properties: Record<string, unknown>;
  is_identified: boolean;
  distinct_ids: string[];
}

const SHARDS = 4;

/**
 * A live EAP for one SDK test file: real PostgreSQL and Redis (test/support), a real `eap api`
 * process and a real `eap worker` process, and a project whose write key the SDKs use. The API
 * can be killed and started again (another port: `url` follows; tests that need one address put
 * a proxy in front). Everything stops after the file.
 */
export function useSdkPipeline(projectName: string) {
  const backends = useDatabaseAndRedis();
  const state = {} as { api: EapProcess & { url: string }; worker: EapProcess; projectId: string; writeKey: string };
  const env = () => ({
    DATABASE_URL: backends.db.url,
    REDIS_URL: backends.redis.url,
    EAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    STREAM_SHARDS: String(SHARDS),
    RATE_LIMIT_PER_SECOND: '0',
  });

  beforeAll(async () => {
    const project = await createTestProject(backends.db.pool, projectName);
    state.projectId = project.project_id;
    state.writeKey = project.write_key;
    [state.api, state.worker] = await Promise.all([spawnApi(env()), spawnWorker(env())]);
  });
  afterAll(async () => {
    await Promise.all([state.api?.stop(), state.worker?.stop()]);
  });

  async function query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await backends.db.pool.query(sql, params)).rows as T[];
  }

  /** The person a distinct id belongs to, with all its distinct ids; undefined without one. */
  async function personOf(distinctId: string): Promise<StoredPerson | undefined> {
    const [row] = await query<StoredPerson>(
      `SELECT p.properties, p.is_identified,
              (SELECT array_agg(o.distinct_id ORDER BY o.distinct_id) FROM person_distinct_ids o
                WHERE o.project_id = p.project_id AND o.person_id = p.id) AS distinct_ids
         FROM person_distinct_ids d JOIN persons p ON p.project_id = d.project_id AND p.id = d.person_id
        WHERE d.project_id = $1 AND d.distinct_id = $2`,
      [state.projectId, distinctId],
    );
    return row;
  }

  return {
    personOf,
    /** EAP's public URL (the current API process). */
    get url() {
      return state.api.url;
    },
    get writeKey() {
      return state.writeKey;
    },
    get projectId() {
      return state.projectId;
    },
    get api() {
      return state.api;
    },
    /** SIGKILLs the API process (what it accepted is in Redis already). */
    async killApi(): Promise<void> {
      await state.api.kill();
    },
    /** Starts a new API process (on a new port) after {@link killApi}. */
    async startApi(): Promise<string> {
      state.api = await spawnApi(env());
      return state.api.url;
    },
    /** Every stored event of the project (all distinct ids, or those given), oldest first. */
    async events(distinctIds?: string[]): Promise<StoredEvent[]> {
      return query<StoredEvent>(
        `SELECT event_id, event, distinct_id, "timestamp", sent_at, properties, context, is_bot FROM events
         WHERE project_id = $1 AND ($2::text[] IS NULL OR distinct_id = ANY($2)) ORDER BY "timestamp", event_id`,
        [state.projectId, distinctIds ?? null],
      );
    },
    /** Waits until at least `count` events of these distinct ids are stored. */
    async waitForEvents(count: number, distinctIds?: string[], timeoutMs = 30_000): Promise<void> {
      await waitFor(
        async () => {
          const [row] = await query<{ n: number }>(
            'SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND ($2::text[] IS NULL OR distinct_id = ANY($2))',
            [state.projectId, distinctIds ?? null],
          );
          return (row?.n ?? 0) >= count;
        },
        timeoutMs,
        `${count} events stored`,
      );
    },
    /**
     * Waits until every stream entry was written and acknowledged: after this, a count of rows is
     * final (a duplicate still in flight would otherwise be missed).
     */
    async drained(): Promise<void> {
      await waitFor(
        async () => {
          for (const key of streamKeys(SHARDS)) {
            const groups = parseStreamGroups(await backends.redis.client.xinfo('GROUPS', key).catch(() => []));
            if (shardBacklog(groups, await backends.redis.client.xlen(key)) > 0) return false;
          }
          return true;
        },
        30_000,
        'the streams drained',
      );
    },
    /** Waits until `distinctId` has a person for which `check` holds; returns it. */
    async waitForPerson(distinctId: string, check: (person: StoredPerson) => boolean, what: string): Promise<StoredPerson> {
      let person: StoredPerson | undefined;
      await waitFor(
        async () => {
          person = await personOf(distinctId);
          return person !== undefined && check(person);
        },
        30_000,
        `person of ${distinctId}: ${what}`,
      ).catch(async (error: Error) => {
        const links = await query('SELECT distinct_id, person_id FROM person_distinct_ids WHERE project_id = $1', [state.projectId]);
        throw new Error(`${error.message}; last seen: ${JSON.stringify(person)}; the project's distinct ids: ${JSON.stringify(links)}`);
      });
      return person!;
    },
    async eventCountByName(): Promise<Record<string, number>> {
      const rows = await query<{ event: string; n: number }>(
        'SELECT event, count(*)::int AS n FROM events WHERE project_id = $1 GROUP BY event ORDER BY event',
        [state.projectId],
      );
      return Object.fromEntries(rows.map((r) => [r.event, r.n]));
    },
  };
}
export type SdkPipeline = ReturnType<typeof useSdkPipeline>;
