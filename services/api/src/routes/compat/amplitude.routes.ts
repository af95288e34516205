import type { FastifyInstance } from 'fastify';
import { EapError, type IngestResponse } from '@eap/core';
import { type IngestRouteDeps, requestContextBuilder } from '../../ingest-admission.ts';
import { toEapError } from '../../http-errors.ts';
import { isPlainObject, REQUIRED } from '../../compat/mapped-message.ts';
import { amplitudeFieldOf, mapAmplitudeEvent } from '../../compat/amplitude-mapper.ts';
import { admitOnce, checkBatchSize, ingestMapped, sentAtIso, stringField } from './compat-ingest.ts';

const INVALID_API_KEY = 'Invalid API key';

/**
 * Amplitude's 400 for invalid events (its HTTP V2 format): event indexes per field, split into
 * missing and invalid fields, plus EAP's per-event `rejected` and how many events were stored.
 */
export function amplitudeInvalidBody(outcome: IngestResponse) {
  const invalid: Record<string, number[]> = {};
  const missing: Record<string, number[]> = {};
  for (const rejection of outcome.rejected) {
    for (const error of rejection.errors) {
      const target = error.message.startsWith(REQUIRED) ? missing : invalid;
      const field = amplitudeFieldOf(error.path);
      const indexes = target[field] ?? [];
      if (!indexes.includes(rejection.index)) indexes.push(rejection.index);
      target[field] = indexes;
    }
  }
  return {
    code: 400,
    error: `${outcome.rejected.length} event${outcome.rejected.length === 1 ? ' is' : 's are'} invalid; the other ${outcome.accepted} were stored`,
    events_with_invalid_fields: invalid,
    events_with_missing_fields: missing,
    events_ingested: outcome.accepted,
    accepted: outcome.accepted,
    rejected: outcome.rejected,
  };
}

/** An EapError as Amplitude answers: `{code, error, ...}`; an unknown or wrong key is its 400 "Invalid API key". */
export function amplitudeErrorBody(error: EapError): { status: number; body: Record<string, unknown> } {
  if (error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN') {
    return { status: 400, body: { code: 400, error: `${INVALID_API_KEY}: ${error.message}`, error_code: error.code } };
  }
  const details = isPlainObject(error.details) ? error.details : error.details === undefined ? {} : { details: error.details };
  return { status: error.status, body: { code: error.status, error: error.message, error_code: error.code, ...details } };
}

/**
 * Amplitude's HTTP V2 API (`POST /2/httpapi`, `{api_key, events, options, client_upload_time}`)
 * over EAP write keys. Every answer carries Amplitude's `code`, which its SDKs read instead of the
 * HTTP status. Invalid events make a 400 listing them by field; the valid events of that request
 * are stored, and the SDK's resend of them is deduplicated by their insert_id.
 */
export async function amplitudeRoutes(app: FastifyInstance, deps: IngestRouteDeps): Promise<void> {
  const contextOf = requestContextBuilder(deps.config);

  // This plugin's errors (body parsing, admission, backpressure) in Amplitude's shape; counted and
  // logged as the API's own error handler does.
  app.setErrorHandler((error, request, reply) => {
    const eap = toEapError(error);
    if (eap.status >= 500 && eap.code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: eap.code, msg: eap.message }, 'request refused');
    deps.metrics.requestsRejected.inc({ code: eap.code });
    if (eap.retryAfterSeconds !== undefined) void reply.header('retry-after', String(eap.retryAfterSeconds));
    const { status, body } = amplitudeErrorBody(eap);
    return reply.code(status).send(body);
  });

  app.post('/2/httpapi', { config: { ingest: true } }, async (request, reply) => {
    const body = request.body;
    if (!isPlainObject(body)) throw new EapError('INVALID_REQUEST', 'the body must be a JSON object {api_key, events}');
    const apiKey = stringField(body, 'api_key');
    if (apiKey === undefined)
      throw new EapError('INVALID_REQUEST', 'Request missing required field', { details: { missing_field: 'api_key' } });
    const events = body.events;
    if (!Array.isArray(events) || events.length === 0) {
      throw new EapError('INVALID_REQUEST', 'Request missing required field', { details: { missing_field: 'events' } });
    }
    await admitOnce(request, deps, apiKey);
    checkBatchSize(events.length);
    const sentAt = sentAtIso(body.client_upload_time, 'client_upload_time');
    const outcome = await ingestMapped(deps, contextOf(request, sentAt), events.map(mapAmplitudeEvent));
    if (outcome.rejected.some((r) => r.retriable)) {
      throw new EapError('STREAM_UNAVAILABLE', 'some events could not be stored; resend them (insert_id dedupes what was stored)', {
        retryAfterSeconds: 2,
        details: { events_ingested: outcome.accepted, ...outcome },
      });
    }
    if (outcome.rejected.length > 0) return reply.code(400).send(amplitudeInvalidBody(outcome));
    return reply.code(200).send({
      code: 200,
      events_ingested: outcome.accepted,
      payload_size_bytes: Number(request.headers['content-length']) || 0,
      server_upload_time: Date.now(),
    });
  });
}
