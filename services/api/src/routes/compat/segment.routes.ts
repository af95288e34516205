import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EapError } from '@eap/core';
import { type IngestRouteDeps, requestContextBuilder } from '../../ingest-admission.ts';
import { authenticateRequest, readApiKey } from '../../request-key.ts';
import { isPlainObject } from '../../compat/mapped-message.ts';
import { mapSegmentMessage, SEGMENT_SHORT_PATHS, SEGMENT_TYPES, type SegmentType } from '../../compat/segment-mapper.ts';
import { admitOnce, checkBatchSize, ingestMapped, sentAtIso, settle, stringField } from './compat-ingest.ts';

/**
 * Segment's ingest over EAP write keys: the key is the user name of HTTP Basic (analytics-node,
 * analytics-next) or `writeKey` in the body (analytics.js without a header). Answers 200
 * `{"success": true, accepted, rejected}`; see docs/sdk-endpoints.md for the other answers.
 */
export function createSegmentIngest(deps: IngestRouteDeps) {
  const contextOf = requestContextBuilder(deps.config);

  /** `{"batch": [...], "writeKey"?, "sentAt"?}`: /v1/batch (Segment-shaped), /v1/import, /v1/b. */
  async function segmentBatch(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const body = request.body;
    await admitOnce(request, deps, readApiKey(request) ?? stringField(body, 'writeKey'));
    const messages = isPlainObject(body) ? body.batch : undefined;
    if (!Array.isArray(messages)) {
      throw new EapError('INVALID_REQUEST', 'a Segment batch is {"batch": [messages...], "sentAt"?}', {
        details: [{ path: 'batch', message: 'must be an array of messages' }],
      });
    }
    checkBatchSize(messages.length);
    const sentAt = sentAtIso((body as Record<string, unknown>).sentAt, 'sentAt');
    const outcome = await ingestMapped(
      deps,
      contextOf(request, sentAt),
      messages.map((message) => mapSegmentMessage(message)),
    );
    return reply.code(200).send({ success: true, ...settle(outcome) });
  }

  /** One call: `/v1/track` ... or analytics.js's `/v1/t` ...; the path names the type. */
  function segmentCall(type: SegmentType) {
    return async function segmentSingleCall(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
      const body = request.body;
      await admitOnce(request, deps, readApiKey(request) ?? stringField(body, 'writeKey'));
      if (!isPlainObject(body)) throw new EapError('INVALID_REQUEST', `the body of a ${type} call is one Segment message (a JSON object)`);
      const sentAt = sentAtIso(body.sentAt, 'sentAt');
      const outcome = await ingestMapped(deps, contextOf(request, sentAt), [mapSegmentMessage(body, type)]);
      return reply.code(200).send({ success: true, ...settle(outcome) });
    };
  }

  return { segmentBatch, segmentCall };
}

/** The host and scheme the client reached this API at, behind a proxy too. */
function publicOrigin(request: FastifyRequest): { host: string; protocol: 'http' | 'https' } {
  const first = (value: string | string[] | undefined): string | undefined =>
    (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
  const forwardedProto = first(request.headers['x-forwarded-proto'])?.toLowerCase();
  const protocol =
    forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : request.protocol === 'https' ? 'https' : 'http';
  return { host: first(request.headers['x-forwarded-host']) ?? request.host, protocol };
}

/**
 * The source settings analytics-next loads from its CDN (`{cdnURL}/v1/projects/{writeKey}/settings`)
 * before it sends anything: only the Segment.io destination, pointed at this API, with remote
 * metrics off (they would go to `/m`).
 */
export function segmentSettings(writeKey: string, origin: { host: string; protocol: string }) {
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost: `${origin.host}/v1`,
        protocol: origin.protocol,
        addBundledMetadata: false,
        unbundledIntegrations: [],
        maybeBundledConfigIds: {},
      },
    },
    plan: {
      track: { __default: { enabled: true, integrations: {} } },
      identify: { __default: { enabled: true } },
      group: { __default: { enabled: true } },
    },
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  };
}

/** Segment's single-call, batch and import paths, and the settings analytics-next fetches. */
export async function segmentRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  const { segmentBatch, segmentCall } = createSegmentIngest(deps);
  const ingest = { config: { ingest: true } };
  for (const type of SEGMENT_TYPES) app.post(`/v1/${type}`, ingest, segmentCall(type));
  for (const [letter, type] of Object.entries(SEGMENT_SHORT_PATHS)) app.post(`/v1/${letter}`, ingest, segmentCall(type));
  app.post('/v1/import', ingest, segmentBatch);
  app.post('/v1/b', ingest, segmentBatch);

  app.get<{ Params: { write_key: string } }>('/v1/projects/:write_key/settings', ingest, async (request, reply) => {
    await authenticateRequest(request, deps.keys, 'write', request.params.write_key);
    return reply.code(200).send(segmentSettings(request.params.write_key, publicOrigin(request)));
  });
}
