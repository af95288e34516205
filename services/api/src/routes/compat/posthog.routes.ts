import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EapError, uuidv7 } from '@eap/core';
import { type IngestRouteDeps, requestContextBuilder } from '../../ingest-admission.ts';
import { authenticateRequest, readApiKey } from '../../request-key.ts';
import { decodeDataField } from '../../json-body-parser.ts';
import { isPlainObject } from '../../compat/mapped-message.ts';
import { mapPostHogEvent, readPostHogEnvelope } from '../../compat/posthog-mapper.ts';
import { admitOnce, checkBatchSize, ingestMapped, sentAtIso, settle, stringField } from './compat-ingest.ts';

type Query = Record<string, string | undefined>;

/** The key in the query string: `?token=` or `?api_key=`. */
function queryKey(request: FastifyRequest): string | undefined {
  const query = request.query as Query;
  return query.token || query.api_key || undefined;
}

/** The body of a capture request; GET capture requests (image transport) carry it in `?data=`. */
function captureBody(request: FastifyRequest): unknown {
  if (request.method !== 'GET') return request.body;
  const { data, compression } = request.query as Query;
  if (!data) throw new EapError('INVALID_REQUEST', 'a GET capture request carries its events in the "data" query parameter');
  return decodeDataField(data, compression === 'base64');
}

/**
 * The remote config posthog-js loads from `/array/{token}/config` (and as a script from
 * `config.js`): gzip accepted, no feature flags (so it does not ask for them), no session
 * recording, surveys or site apps.
 */
export function posthogRemoteConfig(token: string) {
  return {
    token,
    supportedCompression: ['gzip', 'gzip-js'],
    hasFeatureFlags: false,
    captureDeadClicks: false,
    capturePerformance: false,
    autocapture_opt_out: false,
    autocaptureExceptions: false,
    analytics: { endpoint: '/e/' },
    elementsChainAsString: true,
    errorTracking: { autocaptureExceptions: false, suppressionRules: [] },
    sessionRecording: false,
    heatmaps: false,
    surveys: false,
    productTours: false,
    defaultIdentifiedOnly: true,
    siteApps: [],
  };
}

/**
 * The answer of `/flags` and `/decide`: no feature flags. `/flags` (and `/decide?v=4` or later)
 * in the v2 shape posthog-js 1.449 reads (`flags`), older `/decide` with `featureFlags`; both
 * with the remote config older clients read from `/decide`.
 */
export function posthogFlags(token: string, v2: boolean) {
  const flags = v2 ? { flags: {} } : { featureFlags: {}, featureFlagPayloads: {} };
  return {
    ...posthogRemoteConfig(token),
    config: { enable_collect_everything: true },
    toolbarParams: {},
    isAuthenticated: false,
    ...flags,
    errorsWhileComputingFlags: false,
    quotaLimited: [],
    requestId: uuidv7(),
  };
}

/** A script defining the remote config for posthog-js, with every character that could end it escaped. */
function remoteConfigScript(token: string): string {
  const json = (value: unknown): string =>
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  return `(function(){var w=window;w._POSTHOG_REMOTE_CONFIG=w._POSTHOG_REMOTE_CONFIG||{};w._POSTHOG_REMOTE_CONFIG[${json(token)}]={config:${json(posthogRemoteConfig(token))},siteApps:[]};})();\n`;
}

/**
 * PostHog's capture API over EAP write keys: the key is `api_key` or `token` in the body (or in
 * the first event's properties), else `?token=`/`?api_key=`, else the headers. Answers 200
 * `{"status": 1, accepted, rejected}`; docs/sdk-endpoints.md has the rest.
 */
export async function posthogRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  const contextOf = requestContextBuilder(deps.config);
  const ingest = { config: { ingest: true } };

  function capture(engage: boolean) {
    return async function posthogCapture(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
      const body = captureBody(request);
      const envelope = readPostHogEnvelope(body);
      await admitOnce(request, deps, envelope.key ?? queryKey(request));
      checkBatchSize(envelope.messages.length);
      const sentAt = sentAtIso(envelope.sentAt ?? (request.query as Query).sent_at, 'sent_at');
      const ctx = contextOf(request, sentAt);
      const options = { sentAtMs: ctx.sentAt, receivedAt: ctx.receivedAt, engage };
      const outcome = await ingestMapped(
        deps,
        ctx,
        envelope.messages.map((message) => mapPostHogEvent(message, options)),
      );
      return reply.code(200).send({ status: 1, ...settle(outcome) });
    };
  }
  for (const path of ['/capture', '/batch', '/e', '/i/v0/e', '/track']) {
    app.post(path, ingest, capture(false));
    app.get(path, ingest, capture(false));
  }
  app.post('/engage', ingest, capture(true));
  app.get('/engage', ingest, capture(true));

  /** `/flags` and `/decide`: authenticated like capture, so an unknown key is told so. */
  async function flags(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const body = isPlainObject(request.body) ? request.body : {};
    const token = stringField(body, 'api_key') ?? stringField(body, 'token') ?? queryKey(request);
    const rawKey = token ?? readApiKey(request);
    await authenticateRequest(request, deps.keys, 'write', rawKey);
    const version = Number((request.query as Query).v ?? 0);
    const v2 = request.url.startsWith('/flags') || version >= 4;
    return reply.code(200).send(posthogFlags(rawKey ?? '', v2));
  }
  for (const path of ['/flags', '/decide']) {
    app.post(path, ingest, flags);
    app.get(path, ingest, flags);
  }

  app.get<{ Params: { key: string } }>('/array/:key/config', ingest, async (request, reply) => {
    await authenticateRequest(request, deps.keys, 'write', request.params.key);
    return reply.code(200).send(posthogRemoteConfig(request.params.key));
  });
  app.get<{ Params: { key: string } }>('/array/:key/config.js', ingest, async (request, reply) => {
    await authenticateRequest(request, deps.keys, 'write', request.params.key);
    return reply.code(200).type('application/javascript; charset=utf-8').send(remoteConfigScript(request.params.key));
  });
}
