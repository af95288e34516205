// The ingest half of the bare pipeline (bench/bare-pipeline.ts): the least a fastify server on this
// stack does to take events durably. It parses the JSON body, makes each event its row of COPY
// text (an event id, the receive time, properties and context serialized once), appends the
// request's rows to one Redis stream as one entry and answers 202 once Redis has it. Nothing
// else: no authentication, validation, enrichment, rate limit, shards, backlog count or metrics.
// `/v1/batch` takes a batch; `/v1/events` one event, as browser and mobile SDKs send them, the
// rows of the requests that ask in the same two turns of the event loop appended as one entry (as
// EAP's API shares entries among them), so that it is the floor under EAP's single-event ingest
// (the ingest phase of `make bench`). It prints its port once it serves.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import type { IngestEvent } from '@eap/core';
import { copyValue } from '@eap/worker';
import { BARE_STREAM } from './bare-stream.ts';

const { REDIS_URL = '', PROJECT_ID = '' } = process.env;
const redis = new Redis(REDIS_URL);
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

/** An event's row of COPY text, the columns of EAP's writer in one template. */
function rowOf(e: IngestEvent, receivedAt: string, sentAt: string | undefined): string {
  const context = e.context === undefined ? null : JSON.stringify(e.context);
  return `${PROJECT_ID}\t${copyValue(e.event_id ?? randomUUID())}\t${copyValue(e.event)}\t${copyValue(e.distinct_id)}\t${copyValue(e.timestamp ?? receivedAt)}\t${copyValue(e.timestamp ?? null)}\t${copyValue(sentAt ?? null)}\t${receivedAt}\t${copyValue(e.session_id ?? null)}\t${copyValue(JSON.stringify(e.properties ?? {}))}\t${copyValue(context)}\tf\n`;
}

app.post('/v1/batch', async (request, reply) => {
  const { events, sent_at } = request.body as { events: IngestEvent[]; sent_at?: string };
  const receivedAt = new Date().toISOString();
  let lines = '';
  for (const e of events) lines += rowOf(e, receivedAt, sent_at);
  await redis.xadd(BARE_STREAM, '*', 'd', lines);
  return reply.code(202).send({ accepted: events.length, rejected: [] });
});

/**
 * The rows of the single events that asked in this turn of the event loop or the next (as EAP's
 * API waits two turns before its call), and their answers.
 */
let turn: { rows: string[]; answers: ((error?: Error) => void)[] } | undefined;

/** Appends the rows of a turn as one entry, then answers each of its requests. */
function appendTurn(): void {
  const { rows, answers } = turn!;
  turn = undefined;
  redis.xadd(BARE_STREAM, '*', 'd', rows.join('')).then(
    () => {
      for (const answer of answers) answer();
    },
    (error: Error) => {
      for (const answer of answers) answer(error);
    },
  );
}

/** Resolves once Redis has the row, appended with the rows of the requests of the same turn. */
function appendRow(row: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (turn === undefined) {
      turn = { rows: [], answers: [] };
      setImmediate(() => setImmediate(appendTurn));
    }
    turn.rows.push(row);
    turn.answers.push((error) => (error === undefined ? resolve() : reject(error)));
  });
}

app.post('/v1/events', async (request, reply) => {
  const event = request.body as IngestEvent & { sent_at?: string };
  await appendRow(rowOf(event, new Date().toISOString(), event.sent_at));
  return reply.code(202).send({ accepted: 1, rejected: [] });
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.once('SIGTERM', () => void app.close().then(() => redis.quit().finally(() => process.exit(0))));
