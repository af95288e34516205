// What fewer, larger stream entries would save Redis: its CPU (INFO cpu) per event to append
// 100,000 events in requests of 100 (8 at a time) and to read and acknowledge them, with one entry
// per event (as shipped: the API's append script and the worker's acknowledge script) against one
// entry per request holding its 100 events (a sketch: a script that counts the backlog and adds
// one entry; reads of 10 entries; an acknowledge script per read). Private Redis with AOF
// everysec, as `make bench` runs it; two alternating rounds.
// Usage: node bench/stream-entry-size.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { CONSUMER_GROUP, streamEntryDataOf, streamKey } from '@eap/core';
import { startRedis } from '@eap/local-services';
import { createStreamProducer } from '../services/api/src/stream-producer.ts';
import { acknowledgeEntries } from '../services/worker/src/dead-letter.ts';
import { streamEvents } from './support/bench-data.ts';
const dir = await mkdtemp(join(tmpdir(), 'eap-redis-exp-'));
const server = await startRedis({ dataDir: dir });
const redis = new Redis(server.url);
const cpu = async () => {
  const t = await redis.info('cpu');
  return Number(/used_cpu_sys:([\d.]+)/.exec(t)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(t)![1]);
};
const projectId = '0195f0a0-0000-7000-8000-000000000001';
const N = 100_000;
const events = streamEvents(N, projectId).map(streamEntryDataOf);
const key = streamKey(0);
const MULTI = `redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[2])) return redis.call('XADD', KEYS[2], '*', 'v', '2', 'data', ARGV[3])`;
const ACKM = `local n = 0 for i = 1, #ARGV, 2 do n = n + redis.call('XACK', KEYS[2], 'eap-writers', ARGV[i]) redis.call('HINCRBY', KEYS[1], ARGV[i+1], -100) end return n`;
try {
  for (const round of [1, 2])
    for (const mode of ['per_event', 'per_request']) {
      await redis.flushall();
      await redis.xgroup('CREATE', key, CONSUMER_GROUP, '0', 'MKSTREAM');
      const c0 = await cpu();
      if (mode === 'per_event') {
        const producer = createStreamProducer(redis);
        for (let i = 0; i < N; i += 800) {
          const reqs = [];
          for (let j = i; j < Math.min(N, i + 800); j += 100)
            reqs.push(
              producer.append(
                projectId,
                events.slice(j, j + 100).map((data) => ({ shard: 0, data })),
              ),
            );
          await Promise.all(reqs);
        }
      } else {
        for (let i = 0; i < N; i += 800) {
          const reqs = [];
          for (let j = i; j < Math.min(N, i + 800); j += 100)
            reqs.push(redis.eval(MULTI, 2, 'eap:backlog', key, projectId, '100', events.slice(j, j + 100).join('\n')));
          await Promise.all(reqs);
        }
      }
      const c1 = await cpu();
      let read = 0;
      for (;;) {
        const res = (await redis.xreadgroup(
          'GROUP',
          CONSUMER_GROUP,
          'c1',
          'COUNT',
          mode === 'per_event' ? 1000 : 10,
          'STREAMS',
          key,
          '>',
        )) as [string, [string, string[]][]][] | null;
        if (!res || res[0]![1].length === 0) break;
        const entries = res[0]![1];
        if (mode === 'per_event')
          await acknowledgeEntries(
            redis,
            entries.map(([id, fields]) => ({ shard: 0, key, id, fields })),
          );
        else await redis.eval(ACKM, 2, 'eap:backlog', key, ...entries.flatMap(([id]) => [id, projectId]));
        read += mode === 'per_event' ? entries.length : entries.length * 100;
      }
      const c2 = await cpu();
      console.log(
        `round ${round} ${mode}: append ${(((c1 - c0) * 1e6) / N).toFixed(2)} µs/event, read+ack ${(((c2 - c1) * 1e6) / N).toFixed(2)} µs/event (read ${read})`,
      );
    }
} finally {
  redis.disconnect();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
