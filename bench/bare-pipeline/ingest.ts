// The ingest half of the bare pipeline (bench/bare-pipeline.ts): the least a fastify server on this
// stack does to take a batch of events durably. It parses the JSON body, makes each event its row
// of COPY text (an event id, the receive time, properties and context serialized once), appends
// the request's rows to one Redis stream as one entry and answers 202 once Redis has it. Nothing
// else: no authentication, validation, enrichment, rate limit, shards or metrics. It prints its
// port once it serves.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import type { IngestEvent } from '@eap/core';
import { copyLine } from '@eap/worker';
import { BARE_STREAM } from './bare-stream.ts';

const { REDIS_URL = '', PROJECT_ID = '' } = process.env;
const redis = new Redis(REDIS_URL);
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.post('/v1/batch', async (request, reply) => {
  const { events, sent_at } = request.body as { events: IngestEvent[]; sent_at?: string };
  const receivedAt = new Date().toISOString();
  let lines = '';
  for (const e of events) {
    lines += copyLine({
      project_id: PROJECT_ID,
      event_id: e.event_id ?? randomUUID(),
      event: e.event,
      distinct_id: e.distinct_id,
      timestamp: e.timestamp ?? receivedAt,
      client_timestamp: e.timestamp ?? null,
      sent_at: sent_at ?? null,
      received_at: receivedAt,
      session_id: e.session_id ?? null,
      propertiesJson: JSON.stringify(e.properties ?? {}),
      contextJson: e.context === undefined ? null : JSON.stringify(e.context),
    });
  }
  await redis.xadd(BARE_STREAM, '*', 'd', lines);
  return reply.code(202).send({ accepted: events.length, rejected: [] });
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.once('SIGTERM', () => void app.close().then(() => redis.quit().finally(() => process.exit(0))));
