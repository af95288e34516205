import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, type TestApi } from './support/test-api.ts';
import { storeWithWorker } from './support/test-worker.ts';
import { ADDRESSES, deepest, NUMBERS, TEXTS, USER_AGENTS, unusualValues } from './support/unusual-values.ts';

/**
 * Valid messages of the Segment, PostHog and Amplitude protocols made of unusual values (what
 * their SDKs may send at the edges: numeric ids and times, every call type, person operations
 * with odd keys, addresses in every spelling, Amplitude's "$remote" and session -1), drawn with a
 * fixed seed and posted to the SDK endpoints as their SDKs post them. Every message must be
 * accepted (never a 5xx), and a worker must store exactly as many rows.
 */

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let project: Awaited<ReturnType<typeof createTestProject>>;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  await redis.client.flushdb();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
  project = await createTestProject(db.pool, 'unusual sdk messages');
});

afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

const { int, pick, maybe, time, object } = unusualValues(20261201);
/** Identifiers as SDKs send them: strings, and numbers some SDKs send for user ids. */
const IDS: readonly (string | number)[] = [...TEXTS, 42, 0, -7, 1e21, Number.MAX_SAFE_INTEGER];
/** A time as milliseconds since the epoch. */
const ms = () => Date.parse(time());
let sent = 0;

function segmentMessage(): Record<string, unknown> {
  const n = ++sent;
  const type = pick(['track', 'page', 'screen', 'identify', 'group', 'alias', 'TRACK', 'Page']);
  const message: Record<string, unknown> = {
    type,
    messageId: maybe(0.5) ? `seg-${n}-${pick(['a', '日本', '😀'])}` : 1_000_000 + n,
    userId: type === 'alias' || maybe(0.6) ? pick(IDS) : undefined,
    anonymousId: pick(TEXTS),
    context: {
      ip: pick(ADDRESSES),
      userAgent: pick(USER_AGENTS),
      library: { name: 'analytics-node', version: pick(['2.1.0', '0.0.0-dev+sha.1']) },
      locale: pick(['de-DE', 'zh-Hant-TW']),
      page: { url: 'https://example.com/ä?q=1#x', title: pick(TEXTS) },
    },
  };
  if (maybe(0.7)) message[maybe(0.5) ? 'timestamp' : 'originalTimestamp'] = maybe(0.5) ? time() : ms();
  if (type.toLowerCase() === 'track') message.event = pick(TEXTS);
  if (maybe(0.7)) message.properties = maybe(0.2) ? deepest(10) : { ...object(3, 4), url: 'https://example.com/p' };
  if (['page', 'screen'].includes(type.toLowerCase())) message.name = pick(TEXTS);
  if (type === 'identify' || type === 'group') message.traits = object(3, 3);
  if (type === 'group') message.groupId = pick(IDS);
  if (type === 'alias') message.previousId = pick(TEXTS);
  return message;
}

function postHogEvent(): Record<string, unknown> {
  const n = ++sent;
  const properties: Record<string, unknown> = {
    ...object(3, 4),
    $lib: 'posthog-node',
    $lib_version: '5.7.0',
    $current_url: 'https://example.com/ö',
    $ip: pick(ADDRESSES),
    $browser: pick(TEXTS),
  };
  if (maybe(0.5)) properties.$session_id = pick(TEXTS);
  if (maybe(0.3)) properties.$time = ms() / 1000;
  const event: Record<string, unknown> = {
    event: pick([...TEXTS, '$pageview', '$identify', '$autocapture', '$groupidentify']),
    uuid: `ph-${n}`,
    properties,
  };
  if (maybe(0.7)) event.distinct_id = pick(IDS);
  else properties.distinct_id = pick(TEXTS);
  if (maybe(0.4)) event.timestamp = maybe(0.5) ? time() : ms();
  else if (maybe(0.3)) event.offset = int(100_000);
  if (maybe(0.3)) event.$set = object(2, 3);
  if (maybe(0.2)) event.$set_once = { first: pick(TEXTS) };
  if (maybe(0.2)) properties.$anon_distinct_id = pick(TEXTS);
  return event;
}

function amplitudeEvent(): Record<string, unknown> {
  const n = ++sent;
  const event: Record<string, unknown> = {
    event_type: pick(TEXTS),
    insert_id: maybe(0.5) ? `amp-${n}` : 2_000_000 + n,
    time: ms(),
    event_properties: maybe(0.2) ? deepest(10) : object(3, 4),
    user_properties: { $set: object(2, 2), $setOnce: { first: pick(TEXTS) }, $unset: { gone: '-' }, plain: pick(NUMBERS), $add: { n: 1 } },
    session_id: pick([-1, ms()]),
    platform: pick(['Web', 'iOS', 'Android']),
    os_name: pick(TEXTS),
    device_model: pick(TEXTS),
    country: pick(['Deutschland', '日本']),
    location_lat: 52.52,
    location_lng: -13.4,
    ip: pick([...ADDRESSES, '$remote']),
    library: pick(['amplitude-node/1.5.73', 'amplitude-ts', 'x/']),
    price: 9.99,
    quantity: 2,
    revenue: 19.98,
  };
  if (maybe(0.7)) event.user_id = pick(IDS);
  if (!event.user_id || maybe(0.5)) event.device_id = pick(TEXTS);
  return event;
}

/** Posts one request; returns how many of its messages were accepted, or why the request failed. */
async function post(protocol: 'segment' | 'posthog' | 'amplitude', size: number): Promise<{ accepted: number; sent: number } | string> {
  let path: string;
  let body: Record<string, unknown>;
  let headers: Record<string, string> = {};
  if (protocol === 'segment') {
    path = '/v1/batch';
    body = { batch: Array.from({ length: size }, segmentMessage), sentAt: time() };
    headers = { authorization: `Basic ${Buffer.from(`${project.write_key}:`).toString('base64')}` };
  } else if (protocol === 'posthog') {
    path = '/batch/';
    body = { api_key: project.write_key, batch: Array.from({ length: size }, postHogEvent), sent_at: time() };
  } else {
    path = '/2/httpapi';
    body = { api_key: project.write_key, events: Array.from({ length: size }, amplitudeEvent), options: { min_id_length: 1 } };
  }
  const res = await api.send(path, { body, headers });
  const accepted = protocol === 'amplitude' ? res.json?.events_ingested : res.json?.accepted;
  if (res.status !== 200 || accepted !== size) {
    return `${protocol}: ${res.status} ${JSON.stringify(res.json).slice(0, 700)} for ${JSON.stringify(body).slice(0, 700)}`;
  }
  return { accepted, sent: size };
}

describe('valid SDK messages of unusual values', () => {
  it('are all accepted by the Segment, PostHog and Amplitude endpoints, and every one is stored', async () => {
    let accepted = 0;
    const failures: string[] = [];
    for (let r = 0; r < 240 && failures.length < 5; r++) {
      const outcome = await post(pick(['segment', 'posthog', 'amplitude'] as const), 1 + int(10));
      if (typeof outcome === 'string') failures.push(`request ${r}: ${outcome}`);
      else accepted += outcome.accepted;
    }
    expect(failures).toEqual([]);
    expect(accepted).toBe(sent);

    const expected = new Map([[project.project_id, accepted]]);
    expect(await storeWithWorker({ databaseUrl: db.url, redisUrl: redis.url, pool: db.pool }, expected)).toEqual(expected);
    expect(await redis.client.xlen('eap:dlq')).toBe(0);
  });
});
