import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MAX_STREAM_ENTRY_BYTES, PROJECT_BACKLOG_KEY, streamKey } from '@eap/core';
import { startOwnRedis } from './support/test-redis.ts';
import { createStreamProducer, MAX_EVENTS_PER_APPEND_CALL, type PreparedEvent } from '../services/api/src/stream-producer.ts';

// A Redis of its own: the test counts the script calls the server ran (INFO commandstats).
let server: Awaited<ReturnType<typeof startOwnRedis>>;
let redis: Redis;
let producerClient: Redis;

/** Script calls the server has run so far (EVAL and EVALSHA). */
async function scriptCalls(): Promise<number> {
  const stats = await redis.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

const entries = (request: number, n: number, shards = 4): PreparedEvent[] =>
  Array.from({ length: n }, (_, i) => ({ shard: (request + i) % shards, data: JSON.stringify({ request, i }) }));

/** The fields of an entry. */
async function streamFields(shard: number, id: string): Promise<string[] | undefined> {
  const [entry] = await redis.xrange(streamKey(shard), id, id);
  return entry?.[1];
}

/** Entries a request of these events becomes: one per shard its events go to. */
const shardsOf = (events: PreparedEvent[]) => new Set(events.map((e) => e.shard)).size;

beforeAll(async () => {
  server = await startOwnRedis();
  redis = new Redis(server.url);
  // As the API's client: no auto-pipelining, the producer groups the appends itself.
  producerClient = new Redis(server.url, { enableAutoPipelining: false });
});

afterAll(async () => {
  producerClient?.disconnect();
  redis?.disconnect();
  await server?.close();
});

beforeEach(async () => {
  await redis.config('SET', 'maxmemory', '0');
  await redis.flushall();
  // Load the script once, so the counted calls are the appends alone.
  await createStreamProducer(producerClient).append('warm-up', entries(0, 1));
  await redis.del(PROJECT_BACKLOG_KEY, ...[0, 1, 2, 3].map(streamKey));
});

describe('stream producer', () => {
  it("appends the events of every request of one turn in one script call, a project's single events of a shard in one entry, each event told its entry id", async () => {
    const producer = createStreamProducer(producerClient);
    const before = await scriptCalls();
    const requests = Array.from({ length: 40 }, (_, r) => ({ projectId: `p${r % 3}`, entries: entries(r, 1 + (r % 5)) }));
    const outcomes = await Promise.all(requests.map((r) => producer.append(r.projectId, r.entries)));
    expect((await scriptCalls()) - before).toBe(1);

    // A request of several events has an entry per shard of its own; the single-event requests
    // of a project share one per shard, in the order they asked.
    const singles = (projectId: string) =>
      requests.filter((r) => r.projectId === projectId && r.entries.length === 1).flatMap((r) => r.entries);
    const inEntryOf = (request: (typeof requests)[number], shard: number) =>
      (request.entries.length === 1 ? singles(request.projectId) : request.entries).filter((e) => e.shard === shard).map((e) => e.data);
    for (const [r, request] of requests.entries()) {
      expect(outcomes[r]).toHaveLength(request.entries.length);
      for (const [i, outcome] of outcomes[r]!.entries()) {
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) continue;
        const event = request.entries[i]!;
        const fields = await streamFields(event.shard, outcome.id);
        const inEntry = inEntryOf(request, event.shard);
        expect(fields).toEqual(['v', '3', 'n', String(inEntry.length), 'data', inEntry.join('\n')]);
      }
    }
    // The backlog counts entries, as the streams' lag does.
    const projects = ['p0', 'p1', 'p2'];
    const entriesOf = (projectId: string) =>
      shardsOf(singles(projectId)) +
      requests.filter((r) => r.projectId === projectId && r.entries.length > 1).reduce((n, r) => n + shardsOf(r.entries), 0);
    expect(await redis.hgetall(PROJECT_BACKLOG_KEY)).toEqual(Object.fromEntries(projects.map((p) => [p, String(entriesOf(p))])));
    const lengths = await Promise.all([0, 1, 2, 3].map((s) => redis.xlen(streamKey(s))));
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(projects.reduce((n, p) => n + entriesOf(p), 0));
  });

  it("starts another entry where a project's single events of a shard would take it over the size limit", async () => {
    const producer = createStreamProducer(producerClient);
    const large = (r: number): PreparedEvent[] => [{ shard: 0, data: `${r}`.padEnd(MAX_STREAM_ENTRY_BYTES / 2, 'x') }];
    const outcomes = await Promise.all([0, 1, 2].map((r) => producer.append('p', large(r))));
    const ids = outcomes.map((o) => (o[0]!.ok ? o[0]!.id : 'failed'));
    // Two events fit in one entry with the line break between them only if they are shorter.
    expect(new Set(ids).size).toBe(3);
    for (const [r, id] of ids.entries()) expect(await streamFields(0, id)).toEqual(['v', '3', 'n', '1', 'data', large(r)[0]!.data]);
    expect(await redis.hget(PROJECT_BACKLOG_KEY, 'p')).toBe('3');
  });

  it('splits a turn into several calls past the cap, never splitting a request', async () => {
    const producer = createStreamProducer(producerClient);
    const perRequest = 700;
    const requests = Math.ceil((MAX_EVENTS_PER_APPEND_CALL * 2) / perRequest);
    const before = await scriptCalls();
    const outcomes = await Promise.all(Array.from({ length: requests }, (_, r) => producer.append('p', entries(r, perRequest))));
    const perCall = Math.floor(MAX_EVENTS_PER_APPEND_CALL / perRequest);
    expect((await scriptCalls()) - before).toBe(Math.ceil(requests / perCall));
    expect(outcomes.flat().every((o) => o.ok)).toBe(true);
    expect(await redis.hget(PROJECT_BACKLOG_KEY, 'p')).toBe(String(requests * 4));
  });

  it('lets a request that asks in the next turn of the event loop join the call', async () => {
    const producer = createStreamProducer(producerClient);
    const before = await scriptCalls();
    const first = producer.append('p', entries(0, 1));
    // Queued after the producer's first setImmediate, so it runs once the turn of the first append
    // has ended: a producer that sent its call from that setImmediate would have sent it already.
    const next = new Promise<Awaited<typeof first>>((resolve) => setImmediate(() => resolve(producer.append('p', entries(4, 1)))));
    const outcomes = [...(await first), ...(await next)];
    expect((await scriptCalls()) - before).toBe(1);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    // Both single events of the project and shard went into one entry.
    expect(new Set(outcomes.map((o) => (o.ok ? o.id : 'failed'))).size).toBe(1);
  });

  it("sends requests of later turns in later calls, and reports each call's duration once", async () => {
    const durations: number[] = [];
    const producer = createStreamProducer(producerClient, { observeCallSeconds: (s) => durations.push(s) });
    const before = await scriptCalls();
    const started = performance.now();
    await Promise.all([producer.append('p', entries(0, 1)), producer.append('p', entries(1, 2))]);
    await producer.append('p', entries(2, 1));
    const elapsedSeconds = (performance.now() - started) / 1000;
    expect((await scriptCalls()) - before).toBe(2);
    expect(durations).toHaveLength(2);
    for (const d of durations) expect(d).toBeGreaterThan(0);
    expect(durations[0]! + durations[1]!).toBeLessThanOrEqual(elapsedSeconds);
  });

  it('fails every request of a call that Redis refuses for memory, having appended nothing', async () => {
    const producer = createStreamProducer(producerClient);
    await redis.config('SET', 'maxmemory', '1');
    const outcomes = await Promise.all([producer.append('p1', entries(0, 3)), producer.append('p2', entries(1, 2))]);
    await redis.config('SET', 'maxmemory', '0');
    for (const outcome of outcomes.flat()) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error).toMatch(/OOM/);
    }
    expect(outcomes.flat()).toHaveLength(5);
    expect(await redis.exists(PROJECT_BACKLOG_KEY, ...[0, 1, 2, 3].map(streamKey))).toBe(0);
  });
});
