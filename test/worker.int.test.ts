import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CONSUMER_GROUP,
  PROJECT_BACKLOG_KEY,
  encodeStreamEntry,
  encodeStreamEntryOf,
  entryEventJsons,
  STREAM_ENTRY_VERSION,
  streamEntryData,
  streamEntryDataOf,
  streamKey,
  streamKeys,
  streamRowOf,
} from '@eap/core';
import { copyInto, createDeadLetterQueue, createDlqTool, createEventWriter } from '@eap/worker';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, waitFor } from './support/test-api.ts';
import { startTestWorker, type TestWorker } from './support/test-worker.ts';
import {
  appendEvents,
  appendRaw,
  appendRequest,
  countRows,
  dlqEntries,
  streamEvent,
  totalStreamLength,
} from './support/stream-fixtures.ts';

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let projectId: string;
const workers: TestWorker[] = [];

async function worker(env: Record<string, string> = {}) {
  const w = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url, env });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
});
beforeEach(async () => {
  await redis.client.flushdb();
  projectId = (await createTestProject(db.pool)).project_id;
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(async () => {
  await redis?.close();
  await db?.drop();
});

const rows = () => countRows(db.pool, projectId);
/** Entries of shard 0 delivered but not yet acknowledged. */
const pendingOnShard0 = async () => Number(((await redis.client.xpending(streamKey(0), CONSUMER_GROUP)) as [number])[0]);

describe('eap worker', () => {
  it('stores each batch grouped by event name, so a rare event is read from few pages', async () => {
    const writer = createEventWriter(db.pool);
    // Noon (UTC) three days ago: one daily partition, and recent enough for the retention test.
    const day = new Date(Date.now() - 3 * 86_400_000);
    const start = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 12);
    await db.pool.query('SELECT eap_ensure_event_partition($1::date)', [new Date(start).toISOString().slice(0, 10)]);
    const names = ['page_view', 'add_to_cart', 'purchase'];
    // Arrival order interleaves the names: one change of name per row.
    const batch = Array.from({ length: 300 }, (_, i) =>
      streamEvent(projectId, { event: names[i % 3]!, timestamp: new Date(start + i * 1000).toISOString(), distinct_id: `u${i}` }),
    );
    expect((await writer.write(batch.map(streamRowOf))).inserted).toBe(300);
    // ctid is the physical position in the (single daily) partition.
    const { rows: stored } = await db.pool.query<{ event: string; t: Date }>(
      'SELECT event, "timestamp" AS t FROM events WHERE project_id = $1 ORDER BY ctid',
      [projectId],
    );
    expect(stored).toHaveLength(300);
    const changes = stored.filter((row, i) => i > 0 && row.event !== stored[i - 1]!.event).length;
    expect(changes).toBe(2);
    // Within a name, in time order.
    const purchases = stored.filter((row) => row.event === 'purchase').map((row) => row.t.getTime());
    expect(purchases).toEqual([...purchases].sort((a, b) => a - b));
  });

  it('stores every event posted to the API exactly once, with its fields', async () => {
    const project = await createTestProject(db.pool, 'e2e');
    projectId = project.project_id;
    const api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
    await worker();
    try {
      let accepted = 0;
      for (let b = 0; b < 5; b++) {
        const events = Array.from({ length: 200 }, (_, i) => ({
          event: i % 2 ? 'signup' : 'page_view',
          distinct_id: `u${i}`,
          event_id: `b${b}-e${i}`,
          properties: { i, nested: { ok: true } },
          context: { ip: '10.1.2.3', locale: 'de-DE' },
        }));
        const res = await api.send('/v1/batch', { key: project.write_key, body: { events } });
        accepted += res.json.accepted;
      }
      expect(accepted).toBe(1000);
      await waitFor(async () => (await rows()) === 1000, 20_000, '1000 rows');
      const { rows: sample } = await db.pool.query(
        "SELECT event, distinct_id, properties, context, received_at <= now() AS received FROM events WHERE project_id = $1 AND event_id = 'b3-e7'",
        [projectId],
      );
      // The project keeps no IPs (store_ip is off by default); the request's user agent is added.
      expect(sample).toEqual([
        {
          event: 'signup',
          distinct_id: 'u7',
          properties: { i: 7, nested: { ok: true } },
          context: { locale: 'de-DE', user_agent: 'node' },
          received: true,
        },
      ]);
      // Posting an event again (a client retry with the same event_id and timestamp) stores nothing new.
      const { rows: original } = await db.pool.query('SELECT "timestamp" FROM events WHERE project_id = $1 AND event_id = \'b3-e7\'', [
        projectId,
      ]);
      const retry = { event: 'signup', distinct_id: 'u7', event_id: 'b3-e7', timestamp: original[0].timestamp.toISOString() };
      expect((await api.send('/v1/batch', { key: project.write_key, body: { events: [retry] } })).json.accepted).toBe(1);
      await waitFor(
        async () => (await workers[0]!.worker.metrics.eventsDeduplicated.get()).values[0]?.value === 1,
        10_000,
        'retry deduplicated',
      );
      expect(await rows()).toBe(1000);
    } finally {
      await api.stop();
    }
  });

  it('deduplicates redelivered entries and client retries by (project, event_id), whatever their time', async () => {
    const w = await worker();
    const e = streamEvent(projectId, { event_id: 'dup-1', timestamp: '2026-11-20T10:00:00.000Z' });
    await appendEvents(redis.client, [e, e, { ...e, properties: { different: true } }]);
    await appendEvents(redis.client, [e], 2);
    await waitFor(async () => (await w.worker.metrics.eventsDeduplicated.get()).values[0]?.value === 3, 10_000, '3 duplicates counted');
    expect(await rows()).toBe(1);
    // A retry whose stored time differs (another sent_at, another receive time) is the same event.
    await appendEvents(redis.client, [{ ...e, timestamp: '2026-11-20T10:00:01.000Z' }]);
    await waitFor(async () => (await w.worker.metrics.eventsDeduplicated.get()).values[0]?.value === 4, 10_000, '4 duplicates counted');
    expect(await rows()).toBe(1);
  });

  it('keeps the dead-letter stream at DLQ_MAX_ENTRIES, dropping the oldest and counting them', async () => {
    const w = await worker({ DLQ_MAX_ENTRIES: '100' });
    for (let i = 0; i < 150; i++) await appendRaw(redis.client, ['v', '1', 'data', `{not json ${i}`]);
    await waitFor(async () => (await w.worker.metrics.dlqTrimmed.get()).values[0]?.value === 50, 10_000, '50 dead letters dropped');
    expect(await redis.client.xlen('eap:dlq')).toBe(100);
    const letters = await dlqEntries(redis.client);
    expect(letters[0]!.get('data')).toBe('{not json 50');
    expect(letters.at(-1)!.get('data')).toBe('{not json 149');
  });

  it('dead-letters undecodable entries with their reason and keeps going', async () => {
    await worker();
    await appendRaw(redis.client, ['v', '1', 'data', '{not json']);
    await appendRaw(redis.client, ['v', '99', 'data', '{}']);
    await appendRaw(redis.client, ['v', '1', 'data', JSON.stringify({ ...streamEvent(projectId), project_id: 'not-a-uuid' })]);
    // Version 2: a line missing, properties that are not an object, a head that fails the schema.
    const { properties: _p, context: _c, ...head } = streamEvent(projectId);
    await appendRaw(redis.client, ['v', '2', 'data', `${JSON.stringify(head)}\n{}`]);
    await appendRaw(redis.client, ['v', '2', 'data', streamEntryData(JSON.stringify(head), '[1]', 'null')]);
    await appendRaw(redis.client, ['v', '2', 'data', streamEntryData(JSON.stringify({ ...head, event: '' }), '{}', 'null')]);
    await appendEvents(redis.client, [streamEvent(projectId)]);
    await waitFor(async () => (await redis.client.xlen('eap:dlq')) === 6, 10_000, '6 dead letters');
    await waitFor(async () => (await rows()) === 1, 10_000, 'the good event stored');
    const letters = await dlqEntries(redis.client);
    expect(letters.map((l) => l.get('reason'))).toEqual(Array(6).fill('decode_error'));
    expect(letters.slice(3).map((l) => l.get('error'))).toEqual([
      expect.stringContaining('three lines'),
      expect.stringContaining('properties are not a JSON object'),
      expect.stringContaining('event'),
    ]);
    expect(letters[0]!.get('stream')).toBe(streamKey(0));
    expect(letters[0]!.get('data')).toBe('{not json');
    expect(letters[0]!.get('original_id')).toMatch(/^\d+-\d+$/);
    expect(Date.parse(letters[0]!.get('first_seen')!)).toBeGreaterThan(0);
    // Dead-lettered entries are acknowledged: nothing is left pending (the good event's
    // acknowledgement follows its commit).
    await waitFor(async () => (await pendingOnShard0()) === 0, 10_000, 'nothing left pending');
  });

  it('isolates rows PostgreSQL rejects by bisection: only they go to the DLQ, the rest of the batch commits', async () => {
    // Entries that pass the schema but that PostgreSQL refuses (a NUL in jsonb), written around
    // good ones in the same batch.
    const good = Array.from({ length: 97 }, () => streamEvent(projectId));
    const bad = [0, 1, 2].map(() => streamEvent(projectId, { properties: { s: 'nul\u0000here' } }));
    await appendEvents(redis.client, [...good.slice(0, 10), bad[0]!, ...good.slice(10, 60), bad[1]!, bad[2]!]);
    // The worker takes a version 2 entry's properties as text: broken JSON in them is refused by
    // PostgreSQL's jsonb input, and isolated the same way.
    const { properties: _p, context: _c, ...brokenHead } = streamEvent(projectId);
    await appendRaw(redis.client, ['v', '2', 'data', streamEntryData(JSON.stringify(brokenHead), '{"s": cut}', 'null')]);
    await appendEvents(redis.client, good.slice(60));
    await worker({ WORKER_BATCH_SIZE: '1000' });
    await waitFor(async () => (await rows()) === 97, 10_000, '97 good rows');
    await waitFor(async () => (await redis.client.xlen('eap:dlq')) === 4, 10_000, '4 dead letters');
    const letters = await dlqEntries(redis.client);
    expect(new Set(letters.map((l) => l.get('reason')))).toEqual(new Set(['db_rejected']));
    // By event id, not by place: a worker's first reads are small (it assumes the largest entries
    // until it has seen some), so these entries come in several batches, bisected concurrently,
    // which may dead-letter in either order.
    const errorOf = new Map(letters.map((l) => [JSON.parse(entryEventJsons(l.get('v'), l.get('data')!)[0]!).event_id, l.get('error')]));
    expect(new Set(errorOf.keys())).toEqual(new Set([...bad, brokenHead].map((b) => b.event_id)));
    for (const b of bad) expect(errorOf.get(b.event_id)).toMatch(/unsupported Unicode escape sequence|\\u0000/);
    expect(errorOf.get(brokenHead.event_id)).toMatch(/invalid input syntax for type json/);
  });

  it("writes the bytes of an entry's properties and context as they came, and dead-letters alone an event PostgreSQL finds not UTF-8", async () => {
    // What COPY escapes (backslashes, also those of JSON's own escapes), text beyond ASCII, an
    // empty context: each stored as the API wrote it.
    const escaped = streamEvent(projectId, {
      properties: { path: 'C:\\temp\\new', quote: 'say "hi"', tab: 'a\tb', cr: 'x\ry', text: 'Zürich ✓ 🙂' },
      context: { page: { title: 'tab\there' } },
    });
    const plain = streamEvent(projectId, { properties: { text: 'Grüße' }, context: null });
    // Not UTF-8: a byte no API writes (0xff) inside the properties of one event of three.
    const broken = streamEvent(projectId, { properties: { s: 'XX' } });
    const data = Buffer.from([escaped, broken, plain].map(streamEntryDataOf).join('\n'));
    data[data.indexOf('"XX"') + 1] = 0xff;
    await redis.client.xadd(streamKey(0), '*', 'v', String(STREAM_ENTRY_VERSION), 'n', '3', 'data', data);
    await worker();
    await waitFor(async () => (await rows()) === 2, 10_000, 'the two good events stored');
    await waitFor(async () => (await redis.client.xlen('eap:dlq')) === 1, 10_000, 'one dead letter');
    const { rows: stored } = await db.pool.query('SELECT event_id, properties, context FROM events WHERE project_id = $1', [projectId]);
    const byId = new Map(stored.map((r) => [r.event_id, r]));
    expect(byId.get(escaped.event_id)).toEqual({ event_id: escaped.event_id, properties: escaped.properties, context: escaped.context });
    expect(byId.get(plain.event_id)).toEqual({ event_id: plain.event_id, properties: plain.properties, context: null });
    const [letter] = await dlqEntries(redis.client);
    expect([letter!.get('reason'), letter!.get('event_index')]).toEqual(['db_rejected', '1']);
    expect(letter!.get('error')).toMatch(/invalid byte sequence for encoding "UTF8"/);
  });

  it('creates partitions on demand and dead-letters events far outside the accepted time range', async () => {
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
    await appendEvents(redis.client, [
      streamEvent(projectId, { timestamp: tenDaysAgo }),
      streamEvent(projectId, { timestamp: '1999-01-01T00:00:00.000Z' }),
      streamEvent(projectId, { timestamp: new Date(Date.now() + 30 * 86_400_000).toISOString() }),
    ]);
    await worker();
    await waitFor(async () => (await rows()) === 1, 10_000, 'the 10-day-old event stored');
    await waitFor(async () => (await redis.client.xlen('eap:dlq')) === 2, 10_000, '2 out of range');
    expect((await dlqEntries(redis.client)).map((l) => l.get('reason'))).toEqual(['out_of_range', 'out_of_range']);
    const part = `events_p${tenDaysAgo.slice(0, 10).replace(/-/g, '')}`;
    const { rows: found } = await db.pool.query('SELECT to_regclass($1) AS t', [part]);
    expect(found[0].t).toBe(part);
  });

  it('drops whole partitions older than EVENT_RETENTION_DAYS', async () => {
    const old = new Date(Date.now() - 40 * 86_400_000);
    await db.pool.query('SELECT eap_ensure_event_partition($1::date)', [old.toISOString().slice(0, 10)]);
    const rollupRows = async () =>
      (
        await db.pool.query(
          `SELECT (SELECT count(*) FROM event_counts_hourly WHERE hour < now() - interval '35 days')::int
                + (SELECT count(*) FROM event_user_days WHERE day < current_date - 35)::int AS n`,
        )
      ).rows[0].n;
    await db.pool.query(
      `INSERT INTO events (project_id, event_id, event, distinct_id, "timestamp", received_at) VALUES ($1, 'old-one', 'old', 'u', $2, now())`,
      ['00000000-0000-4000-8000-0000000000aa', old.toISOString()],
    );
    expect(await rollupRows()).toBe(2);
    await worker({ EVENT_RETENTION_DAYS: '30' });
    const part = `events_p${old.toISOString().slice(0, 10).replace(/-/g, '')}`;
    await waitFor(
      async () => (await db.pool.query('SELECT to_regclass($1) AS t', [part])).rows[0].t === null,
      10_000,
      'old partition dropped',
    );
    // Its rollups went with it.
    expect(await rollupRows()).toBe(0);
    // Today's partition stays.
    const today = `events_p${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
    expect((await db.pool.query('SELECT to_regclass($1) AS t', [today])).rows[0].t).toBe(today);
  });

  it('takes over entries left pending by a dead consumer and stores them once', async () => {
    const events = Array.from({ length: 50 }, () => streamEvent(projectId));
    await appendEvents(redis.client, events);
    await redis.client.xgroup('CREATE', streamKey(0), CONSUMER_GROUP, '0', 'MKSTREAM');
    // A consumer that read the entries and died before writing them.
    await redis.client.xreadgroup('GROUP', CONSUMER_GROUP, 'dead-worker', 'COUNT', 100, 'STREAMS', streamKey(0), '>');
    const w = await worker({ CLAIM_IDLE_MS: '300' });
    await waitFor(async () => (await rows()) === 50, 15_000, '50 rows after takeover');
    expect((await w.worker.metrics.entriesClaimed.get()).values[0]?.value).toBe(50);
    // Acknowledged after the commit: the last acknowledgement may follow the count.
    await waitFor(async () => (await pendingOnShard0()) === 0, 10_000, 'nothing left pending');
  });

  it('dead-letters an entry delivered more than MAX_DELIVERIES times, one letter per event', async () => {
    const events = [streamEvent(projectId), streamEvent(projectId)];
    const id = await appendRequest(redis.client, events);
    await redis.client.xgroup('CREATE', streamKey(0), CONSUMER_GROUP, '0', 'MKSTREAM');
    await redis.client.xreadgroup('GROUP', CONSUMER_GROUP, 'crashy', 'COUNT', 10, 'STREAMS', streamKey(0), '>');
    // Four more deliveries, as if four workers each crashed while handling it.
    for (let i = 0; i < 4; i++) await redis.client.xclaim(streamKey(0), CONSUMER_GROUP, `crashy-${i}`, 0, id!);
    await worker({ CLAIM_IDLE_MS: '100', MAX_DELIVERIES: '5' });
    await waitFor(async () => (await redis.client.xlen('eap:dlq')) === 2, 10_000, 'dead-lettered');
    const letters = await dlqEntries(redis.client);
    for (const [index, letter] of letters.entries()) {
      expect(letter.get('reason')).toBe('max_deliveries');
      expect(letter.get('deliveries')).toBe('6');
      expect(letter.get('original_id')).toBe(id);
      expect(letter.get('event_index')).toBe(String(index));
      // Each letter is a single-event entry of its event, which replays as it is.
      expect([letter.get('v'), letter.get('data')]).toEqual(['2', streamEntryDataOf(events[index]!)]);
    }
    expect(await rows()).toBe(0);
    await waitFor(async () => (await pendingOnShard0()) === 0, 10_000, 'nothing left pending');
  });

  it('stores the events of an entry of several, dead-letters its bad ones alone and acknowledges it once', async () => {
    const good = Array.from({ length: 5 }, () => streamEvent(projectId));
    const unreadable = streamEvent(projectId, { event_id: '' });
    const tooOld = streamEvent(projectId, { timestamp: new Date(Date.now() - 3 * 365 * 86_400_000).toISOString() });
    const refused = streamEvent(projectId, { properties: { s: 'nul\u0000here' } });
    const id = await appendRequest(redis.client, [good[0]!, unreadable, good[1]!, tooOld, good[2]!, refused, good[3]!, good[4]!]);
    // The entry, and another of the project that is still waiting somewhere.
    await redis.client.hset(PROJECT_BACKLOG_KEY, projectId, 2);
    await worker();
    await waitFor(async () => (await rows()) === 5, 10_000, 'the 5 good events stored');
    await waitFor(async () => (await redis.client.xlen('eap:dlq')) === 3, 10_000, '3 dead letters');
    const letters = await dlqEntries(redis.client);
    expect(letters.map((l) => [l.get('reason'), l.get('event_index'), l.get('original_id'), l.get('v')])).toEqual([
      ['decode_error', '1', id, '2'],
      ['out_of_range', '3', id, '2'],
      ['db_rejected', '5', id, '2'],
    ]);
    expect(letters.map((l) => l.get('data'))).toEqual([unreadable, tooOld, refused].map((e) => streamEntryDataOf(e)));
    const { rows: stored } = await db.pool.query('SELECT event_id FROM events WHERE project_id = $1', [projectId]);
    expect(stored.map((r) => r.event_id).sort()).toEqual(good.map((e) => e.event_id).sort());
    // Acknowledged once, after the last of its events was stored or dead-lettered.
    await waitFor(async () => (await pendingOnShard0()) === 0, 10_000, 'nothing left pending');
    // Taken off the project's count once: twice would leave nothing, never would leave 2.
    expect(await redis.client.hget(PROJECT_BACKLOG_KEY, projectId)).toBe('1');
  });

  it('trims streams only below what every consumer group still needs', async () => {
    await redis.client.xgroup('CREATE', streamKey(0), CONSUMER_GROUP, '0', 'MKSTREAM');
    // A second group (another consumer of the same events) that has read nothing yet.
    await redis.client.xgroup('CREATE', streamKey(1), 'analytics', '0', 'MKSTREAM');
    await appendEvents(
      redis.client,
      Array.from({ length: 30 }, () => streamEvent(projectId)),
      0,
    );
    await appendEvents(
      redis.client,
      Array.from({ length: 20 }, () => streamEvent(projectId)),
      1,
    );
    const w = await worker();
    await waitFor(async () => (await rows()) === 50, 10_000, '50 rows');
    await waitFor(async () => (await redis.client.xlen(streamKey(0))) === 0, 10_000, 'shard 0 trimmed');
    await w.worker.maintenance.runOnce();
    // Shard 1 is needed by "analytics": nothing may go.
    expect(await redis.client.xlen(streamKey(1))).toBe(20);
    // Once analytics reads and acknowledges 5, exactly those 5 can go.
    const read = (await redis.client.xreadgroup('GROUP', 'analytics', 'a1', 'COUNT', 5, 'STREAMS', streamKey(1), '>')) as [
      string,
      [string, string[]][],
    ][];
    for (const [entryId] of read[0]![1]) await redis.client.xack(streamKey(1), 'analytics', entryId);
    await w.worker.maintenance.runOnce();
    expect(await redis.client.xlen(streamKey(1))).toBe(15);
  });

  it('never trims undelivered entries while the worker cannot write', async () => {
    await appendEvents(
      redis.client,
      Array.from({ length: 10 }, () => streamEvent(projectId)),
    );
    // A group exists but nobody reads: every entry is undelivered.
    for (const key of streamKeys(4)) await redis.client.xgroup('CREATE', key, CONSUMER_GROUP, '$', 'MKSTREAM');
    await redis.client.xgroup('SETID', streamKey(0), CONSUMER_GROUP, '0');
    const { createStreamMaintenance } = await import('@eap/worker');
    const { createWorkerMetrics } = await import('../services/worker/src/metrics.ts');
    const { createLogger } = await import('@eap/core');
    const maintenance = createStreamMaintenance({
      redis: redis.client,
      keys: streamKeys(4),
      consumer: 'x',
      consumerIdleDeleteMs: 3_600_000,
      letters: createDlqTool(redis.client, 4),
      metrics: createWorkerMetrics(),
      logger: createLogger({ level: 'silent' }),
    });
    await maintenance.runOnce();
    expect(await totalStreamLength(redis.client)).toBe(10);
  });

  it('replays dead letters back into the stream, where they are stored', async () => {
    const e = streamEvent(projectId, { timestamp: '1999-06-01T00:00:00.000Z' });
    await appendEvents(redis.client, [e]);
    await worker();
    await waitFor(async () => (await redis.client.xlen('eap:dlq')) === 1, 10_000, 'dead-lettered as out of range');
    const tool = createDlqTool(redis.client, 4);
    expect((await tool.list())[0]).toMatchObject({ reason: 'out_of_range', stream: streamKey(0) });
    // Fix the cause (here: put a replayable, in-range copy in the DLQ entry's place) and replay.
    const [dlqId] = (await redis.client.xrange('eap:dlq', '-', '+'))[0]!;
    await redis.client.xdel('eap:dlq', dlqId);
    await redis.client.xadd(
      'eap:dlq',
      '*',
      'reason',
      'out_of_range',
      'stream',
      streamKey(0),
      'v',
      '1',
      'data',
      JSON.stringify({ ...e, timestamp: new Date().toISOString() }),
    );
    // And a letter of the current version: each goes back in its own version, byte for byte.
    const current = streamEntryDataOf(streamEvent(projectId));
    await redis.client.xadd('eap:dlq', '*', 'reason', 'out_of_range', 'stream', streamKey(0), ...encodeStreamEntry(current));
    expect(await tool.replay({ reason: 'out_of_range' })).toEqual({ replayed: 2, skipped: [] });
    // (Read before the worker's next trim, 10 s away, could remove them.)
    const entries = (await Promise.all(streamKeys(4).map((key) => redis.client.xrange(key, '-', '+')))).flat();
    expect(entries.find(([, fields]) => fields.at(-1) === current)?.[1].slice(0, 4)).toEqual(['v', String(STREAM_ENTRY_VERSION), 'n', '1']);
    expect(entries.filter(([, fields]) => fields[0] === 'v' && fields[1] === '1')).toHaveLength(1);
    await waitFor(async () => (await rows()) === 2, 10_000, 'replayed events stored');
    expect(await redis.client.xlen('eap:dlq')).toBe(0);
  });

  it('stores entries of version 1 (appended by an API before version 2) as it stores the current ones', async () => {
    await worker();
    const context = { library: { name: 'eap-js', version: '1.0.0' }, locale: 'de-DE' };
    const properties = { plan: 'pro', price: 9.5, tags: ['a', 'b'], text: 'tab\there, "quoted", back\\slash', nested: { n: null } };
    const old = streamEvent(projectId, { properties, context, is_bot: true });
    const now = streamEvent(projectId, { properties, context, is_bot: true });
    const plain = streamEvent(projectId, { properties: {}, context: null });
    await appendRaw(redis.client, ['v', '1', 'data', JSON.stringify(old)]);
    await appendEvents(redis.client, [now, plain]);
    await waitFor(async () => (await rows()) === 3, 10_000, 'both versions stored');
    const stored = async (eventId: string) =>
      (await db.pool.query('SELECT properties, context, is_bot FROM events WHERE project_id = $1 AND event_id = $2', [projectId, eventId]))
        .rows[0];
    expect(await stored(old.event_id)).toEqual({ properties, context, is_bot: true });
    expect(await stored(now.event_id)).toEqual({ properties, context, is_bot: true });
    expect(await stored(plain.event_id)).toEqual({ properties: {}, context: null, is_bot: false });
  });

  it('puts back the letters an older worker refused for their entry version, and only those', async () => {
    // What a worker of a release before version 3 writes for an entry it cannot read (its
    // dead-letter queue is this one: the letter's layout has not changed).
    const { deadLetter } = createDeadLetterQueue(redis.client, { maxEntries: 1000 });
    let seq = 0;
    const refused = (fields: string[], error = `unsupported stream entry version "${fields[1]}"`) =>
      deadLetter([{ entry: { shard: 1, key: streamKey(1), id: `1-${++seq}`, fields }, reason: 'decode_error', error }]);
    // A request's two events in one entry, as this release's API appends them.
    const first = [streamEvent(projectId), streamEvent(projectId)];
    await refused(encodeStreamEntryOf(first.map((e) => streamEntryDataOf(e))));
    // Still refused: a version this worker does not know either, and an entry broken in another way.
    await refused(['v', '9', 'data', '{"from":"the future"}']);
    await refused(['v', '1', 'data', '{not json'], 'Unexpected token n in JSON');
    const w = await worker({ TRIM_INTERVAL_MS: '100' });
    const recovered = async () => (await w.worker.metrics.lettersRecovered.get()).values[0]?.value ?? 0;
    await waitFor(async () => (await rows()) === 2, 10_000, 'the refused events stored');
    expect(await recovered()).toBe(1);
    // One refused while this worker already runs (an older one still running beside it) goes back too.
    const second = streamEvent(projectId);
    await refused(encodeStreamEntry(streamEntryDataOf(second)));
    await waitFor(async () => (await rows()) === 3, 10_000, 'the second refused event stored');
    expect(await recovered()).toBe(2);
    const left = await dlqEntries(redis.client);
    expect(left.map((l) => [l.get('v'), l.get('data')])).toEqual([
      ['9', '{"from":"the future"}'],
      ['1', '{not json'],
    ]);
    const { rows: stored } = await db.pool.query('SELECT event_id FROM events WHERE project_id = $1 ORDER BY event_id', [projectId]);
    expect(stored.map((r) => r.event_id)).toEqual([...first, second].map((e) => e.event_id).sort());
  });

  it('shares the shards between several workers without processing anything twice', async () => {
    for (let shard = 0; shard < 4; shard++) {
      await appendEvents(
        redis.client,
        Array.from({ length: 1000 }, () => streamEvent(projectId)),
        shard,
      );
    }
    const [a, b] = await Promise.all([worker({ WORKER_BATCH_SIZE: '100' }), worker({ WORKER_BATCH_SIZE: '100' })]);
    await waitFor(async () => (await rows()) === 4000, 20_000, '4000 rows');
    const written = async (w: TestWorker) => (await w.worker.metrics.eventsWritten.get()).values[0]?.value ?? 0;
    const duplicates = async (w: TestWorker) => (await w.worker.metrics.eventsDeduplicated.get()).values[0]?.value ?? 0;
    // Metrics are counted just after the commit that makes the rows visible: wait for them too.
    await waitFor(async () => (await written(a!)) + (await written(b!)) === 4000, 10_000, 'all writes counted');
    expect(await written(a!)).toBeGreaterThan(0);
    expect(await written(b!)).toBeGreaterThan(0);
    expect((await duplicates(a!)) + (await duplicates(b!))).toBe(0);
  });

  it('caught up, writes two batches at most and reads again once one is stored, so what arrived meanwhile is one batch', async () => {
    const w = await worker();
    // A transaction holding event_ids keeps the worker's batches from committing.
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE event_ids IN EXCLUSIVE MODE');
      await appendEvents(redis.client, [streamEvent(projectId)]);
      await waitFor(async () => (await pendingOnShard0()) === 1, 5000, 'the first entry delivered');
      await appendEvents(redis.client, [streamEvent(projectId)]);
      await waitFor(async () => (await pendingOnShard0()) === 2, 5000, 'the second entry delivered');
      await appendEvents(
        redis.client,
        Array.from({ length: 3 }, () => streamEvent(projectId)),
      );
      // Ten of the worker's read timeouts (WORKER_BLOCK_MS 50): a worker reading on would have
      // taken the new entries and started a third batch beside the two.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await pendingOnShard0()).toBe(2);
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    await waitFor(async () => (await rows()) === 5, 10_000, '5 rows');
    const histogram = (await w.worker.metrics.batchSize.get()).values;
    const value = (name: string) => histogram.find((v) => v.metricName === name)?.value;
    expect([value('eap_worker_batch_size_events_count'), value('eap_worker_batch_size_events_sum')]).toEqual([3, 5]);
  });

  it('ends a COPY whose data cannot be made, so its connection rolls back and goes on', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE copy_target (line text) ON COMMIT DROP');
      function* chunks(): Generator<Buffer> {
        yield Buffer.from('first\n');
        throw new Error('no second chunk');
      }
      await expect(copyInto(client, 'copy_target', 'line', chunks())).rejects.toThrow('no second chunk');
      await client.query('ROLLBACK');
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
  });

  it('caught up, reads at most once per WORKER_LINGER_MS, so a trickle of events makes few batches', async () => {
    const w = await worker({ WORKER_LINGER_MS: '1000' });
    // Five events 30 ms apart. The worker's read takes what has arrived (the first, or a few if
    // the worker starts reading late), and the next read begins a second after that one, so
    // the rest make one batch. A worker reading as they come stores them in four or five batches.
    for (let i = 0; i < 5; i++) {
      await appendEvents(redis.client, [streamEvent(projectId)]);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await waitFor(async () => (await rows()) === 5, 10_000, '5 rows');
    const histogram = (await w.worker.metrics.batchSize.get()).values;
    const value = (name: string) => histogram.find((v) => v.metricName === name)?.value;
    expect(value('eap_worker_batch_size_events_sum')).toBe(5);
    expect(value('eap_worker_batch_size_events_count')).toBeLessThanOrEqual(2);
  });

  it('reports ready on /readyz and exports its metrics', async () => {
    const w = await worker();
    expect((await fetch(`${w.adminUrl}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${w.adminUrl}/metrics`)).text();
    for (const name of [
      'eap_worker_events_written_total',
      'eap_worker_events_deduplicated_total',
      'eap_worker_batch_size_events_bucket',
      'eap_worker_end_to_end_latency_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
  });
});
