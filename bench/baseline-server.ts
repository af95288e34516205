// Baseline A of `make bench`: the least a fastify server can do for the same request — parse the
// JSON body and answer 202 — so EAP's ingest rate can be read as a share of it.
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.post('/v1/events', async (_request, reply) => reply.code(202).send({ accepted: 1, rejected: [] }));
app.post('/v1/batch', async (request, reply) => {
  const events = (request.body as { events?: unknown[] }).events ?? [];
  return reply.code(202).send({ accepted: events.length, rejected: [] });
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
