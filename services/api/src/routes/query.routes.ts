import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { EapError, toFieldErrors } from '@eap/core';
import type { KeyAuthenticator } from '../key-authenticator.ts';
import type { QueryConcurrency } from '../query/query-concurrency.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import { listEvents, parsePropertyEquality } from '../query/events.query.ts';
import { queryFunnel } from '../query/funnel.query.ts';
import type { QueryClient, QueryRunner } from '../query/query-runner.ts';
import { getPerson } from '../query/persons.query.ts';
import { EventsQuery, FunnelRequest, PersonParams, RetentionRequest, SchemaQuery, TrendsRequest } from '../query/query.schemas.ts';
import { queryRetention } from '../query/retention.query.ts';
import { querySchema } from '../query/schema.query.ts';
import { queryTrends } from '../query/trends.query.ts';
import { authenticateRequest } from '../request-key.ts';

export interface QueryRouteDeps {
  keys: KeyAuthenticator;
  /** Per read key: queries are expensive, so one key cannot take every query connection in a loop. */
  rateLimiter: RateLimiter;
  runner: QueryRunner;
  /** Caps the queries running at once, per read key and per process. */
  concurrency: QueryConcurrency;
  now?: () => number;
}

/** Validates input with a zod schema; a 400 INVALID_QUERY names every bad field. */
function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const details = toFieldErrors(result.error);
  throw new EapError('INVALID_QUERY', `invalid query: ${details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; ')}`, {
    details,
  });
}

const DAY_MS = 86_400_000;

/**
 * The query API, /v1/query/* and /v1/persons/*: read keys only, scoped to the key's project. Every query runs in
 * its own read-only transaction on the query pool with a statement timeout, holding one of the
 * key's and the process's query slots until it ends.
 */
export async function queryRoutes(app: FastifyInstance, deps: QueryRouteDeps): Promise<void> {
  const now = deps.now ?? Date.now;

  app.addHook('onRequest', async (request) => {
    const key = await authenticateRequest(request, deps.keys, 'read');
    const waitSeconds = deps.rateLimiter.take(key.keyId);
    if (waitSeconds > 0) {
      throw new EapError('RATE_LIMITED', 'too many queries for this read key; slow down', { retryAfterSeconds: waitSeconds });
    }
  });

  const projectOf = (request: { apiKey?: { projectId: string } | null }) => request.apiKey!.projectId;
  /** Runs `work` for the request's key: a query slot, then a read-only transaction. */
  const answer = <T>(request: { apiKey?: { keyId: string } | null }, timezone: string, work: (client: QueryClient) => Promise<T>) =>
    deps.concurrency.run(request.apiKey!.keyId, () => deps.runner.run(timezone, work));

  app.post('/v1/query/trends', async (request) => {
    const body = parse(TrendsRequest, request.body);
    return answer(request, body.timezone, (client) => queryTrends(client, projectOf(request), body));
  });

  app.post('/v1/query/funnel', async (request) => {
    const body = parse(FunnelRequest, request.body);
    return answer(request, body.timezone, (client) => queryFunnel(client, projectOf(request), body));
  });

  app.post('/v1/query/retention', async (request) => {
    const body = parse(RetentionRequest, request.body);
    return answer(request, body.timezone, (client) => queryRetention(client, projectOf(request), body));
  });

  app.get('/v1/query/events', async (request) => {
    const query = parse(EventsQuery, request.query);
    const properties = parsePropertyEquality(query.properties);
    const to = query.to ?? new Date(now()).toISOString();
    const from = query.from ?? new Date(Date.parse(query.to ?? to) - 7 * DAY_MS).toISOString();
    return answer(request, query.timezone, (client) =>
      listEvents(client, projectOf(request), {
        from,
        to,
        timezone: query.timezone,
        events: query.event === undefined ? undefined : ([] as string[]).concat(query.event),
        distinctId: query.distinct_id,
        properties,
        limit: query.limit,
        cursor: query.cursor,
        includeBots: query.include_bots === 'true',
      }),
    );
  });

  app.get('/v1/query/schema', async (request) => {
    const query = parse(SchemaQuery, request.query);
    const to = query.to ?? new Date(now()).toISOString();
    const from = query.from ?? new Date(Date.parse(query.to ?? to) - 30 * DAY_MS).toISOString();
    return answer(request, query.timezone, (client) =>
      querySchema(client, projectOf(request), {
        from,
        to,
        timezone: query.timezone,
        limit: query.limit,
        includeBots: query.include_bots === 'true',
      }),
    );
  });

  app.get('/v1/persons/:distinct_id', async (request) => {
    const params = parse(PersonParams, request.params);
    return answer(request, 'UTC', (client) => getPerson(client, projectOf(request), params.distinct_id));
  });
}
