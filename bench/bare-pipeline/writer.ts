// The writing half of the bare pipeline (bench/bare-pipeline.ts): the least a worker on this stack
// does to store what the ingest half appended. Two loops, each with its own connections, read up
// to 10 entries (1,000 events of batches of 100) as bytes, COPY them as they are into a plain
// table with the indexes of `events`, and acknowledge and delete them after the COPY committed.
// Nothing else: no decoding, deduplication, rollups, persons, partitions, dead letters or metrics.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CONSUMER_GROUP } from '@eap/core';
import { EVENT_COLUMNS } from '@eap/worker';
import { BARE_STREAM, BARE_TABLE } from './bare-stream.ts';

const LOOPS = 2;
const ENTRIES_PER_READ = 10;

const { REDIS_URL: redisUrl = '', DATABASE_URL: databaseUrl = '' } = process.env;
let stopping = false;

type Reply = [Buffer, [Buffer, [Buffer, Buffer[]][]][]][] | null;

async function writeLoop(name: string): Promise<void> {
  const redis = new Redis(redisUrl);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    while (!stopping) {
      const reply = (await redis.xreadgroupBuffer(
        'GROUP',
        CONSUMER_GROUP,
        name,
        'COUNT',
        ENTRIES_PER_READ,
        'BLOCK',
        500,
        'STREAMS',
        BARE_STREAM,
        '>',
      )) as Reply;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      // Each entry's only value is its rows of COPY text, written as they came.
      await pipeline(
        Readable.from(entries.map(([, fields]) => fields[1]!)),
        client.query(copyFrom(`COPY ${BARE_TABLE} (${EVENT_COLUMNS}) FROM STDIN`)),
      );
      // Acknowledged and deleted in one round trip, so the stream holds only what is not stored yet.
      const ids = entries.map(([id]) => id);
      await redis
        .multi()
        .xack(BARE_STREAM, CONSUMER_GROUP, ...ids)
        .xdel(BARE_STREAM, ...ids)
        .exec();
    }
  } finally {
    redis.disconnect();
    await client.end();
  }
}

const setup = new Redis(redisUrl);
await setup.xgroup('CREATE', BARE_STREAM, CONSUMER_GROUP, '0', 'MKSTREAM').catch((error: Error) => {
  if (!error.message.includes('BUSYGROUP')) throw error;
});
setup.disconnect();
const loops = Array.from({ length: LOOPS }, (_, i) => writeLoop(`writer-${i}`));
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  stopping = true;
  void Promise.all(loops).then(() => process.exit(0));
});
await Promise.all(loops);
