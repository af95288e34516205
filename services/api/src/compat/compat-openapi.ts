/**
 * The OpenAPI paths of the SDK-compatible endpoints (docs/sdk-endpoints.md), tag "SDK-compatible".
 * Their bodies are the SDKs' own formats, described here by hand rather than by zod schemas:
 * each message is mapped to an EAP event and validated as one (components `Event`, `RejectedEvent`).
 */
const TAG = 'SDK-compatible';
const errorRef = { $ref: '#/components/schemas/Error' };
const rejectedList = { type: 'array', items: { $ref: '#/components/schemas/RejectedEvent' } };
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } };
const anyObject = { type: 'object', additionalProperties: true };
const bodyContent = (schema: object) => ({
  'application/json': { schema },
  'text/plain': { schema },
  'application/x-www-form-urlencoded': {
    schema: { type: 'object', properties: { data: { type: 'string', description: 'The JSON body, or its base64.' } }, required: ['data'] },
  },
});
const encodings =
  'Body encodings: JSON as application/json or text/plain; gzip by Content-Encoding, by ?compression=gzip-js, or recognised by its magic bytes; base64 by ?compression=base64 or recognised; a form field `data` (posthog-js beacons). Size limit after decompression.';

const eapError = (description: string, headers?: object) => ({
  description,
  content: { 'application/json': { schema: errorRef } },
  ...(headers ? { headers } : {}),
});

const eapStyleErrors = {
  400: eapError('Malformed body, or every event invalid (MALFORMED_JSON, INVALID_REQUEST, INVALID_EVENT with details.rejected).'),
  401: eapError('Missing or unknown write key (UNAUTHORIZED).'),
  403: eapError('A read key, or an Origin the project does not allow (FORBIDDEN, ORIGIN_NOT_ALLOWED).'),
  413: eapError('Body over the size limit after decompression, or more than 1,000 events (PAYLOAD_TOO_LARGE).'),
  415: eapError('Unsupported Content-Type, Content-Encoding or compression (UNSUPPORTED_MEDIA_TYPE).'),
  429: eapError('Rate limited (RATE_LIMITED, PROJECT_BACKLOG_FULL); SDKs retry after Retry-After.', retryAfter),
  503: eapError(
    'Backlog full or stream unavailable, or some events could not be stored: resend the request, ids dedupe (BACKLOG_FULL, STREAM_UNAVAILABLE).',
    retryAfter,
  ),
};

const outcome = (flag: object) => ({
  type: 'object',
  properties: { ...flag, accepted: { type: 'integer' }, rejected: rejectedList },
  required: [...Object.keys(flag), 'accepted', 'rejected'],
});

const segmentMessage = {
  type: 'object',
  description:
    'A Segment Spec message: type, userId/anonymousId, event, properties, traits, name, groupId, previousId, messageId, timestamp, context.',
  additionalProperties: true,
};
const segmentBatch = {
  type: 'object',
  properties: {
    batch: { type: 'array', items: segmentMessage, maxItems: 1000 },
    writeKey: { type: 'string', description: 'The write key, when no Authorization header carries it.' },
    sentAt: { type: 'string', format: 'date-time' },
  },
  required: ['batch'],
};
const segmentOk = {
  200: {
    description: 'Every message accepted or reported: `success`, with EAP per-event outcome (rejected: invalid messages, not stored).',
    content: { 'application/json': { schema: outcome({ success: { type: 'boolean', const: true } }) } },
  },
  ...eapStyleErrors,
};
const segmentSecurity = [{ basicWriteKey: [] }, { bearerKey: [] }, {}];

const segmentPost = (summary: string, operationId: string, schema: object) => ({
  post: {
    summary,
    operationId,
    tags: [TAG],
    security: segmentSecurity,
    description: `Segment: the write key is the HTTP Basic user name, or \`writeKey\` in the body. ${encodings}`,
    requestBody: { required: true, content: bodyContent(schema) },
    responses: segmentOk,
  },
});

const posthogBody = {
  oneOf: [
    {
      type: 'object',
      properties: { api_key: { type: 'string' }, batch: { type: 'array', items: anyObject, maxItems: 1000 }, sent_at: { type: 'string' } },
      required: ['batch'],
    },
    { type: 'array', items: anyObject },
    { type: 'object', description: 'One event with `api_key` or `token`.', additionalProperties: true },
  ],
};
const posthogOk = {
  200: {
    description: 'Every event accepted or reported: `status: 1`, with EAP per-event outcome.',
    content: { 'application/json': { schema: outcome({ status: { type: 'integer', const: 1 } }) } },
  },
  ...eapStyleErrors,
};
const posthogCapture = (summary: string, operationId: string) => ({
  post: {
    summary,
    operationId,
    tags: [TAG],
    security: [{}],
    description: `PostHog: the key is \`api_key\` or \`token\` in the body or the first event's properties, or \`?token=\`/\`?api_key=\`. ${encodings}`,
    requestBody: { required: true, content: bodyContent(posthogBody) },
    responses: posthogOk,
  },
});
const keyParameter = { name: 'key', in: 'path', required: true, schema: { type: 'string' }, description: 'The project write key.' };
const jsonOk = (description: string) => ({
  200: { description, content: { 'application/json': { schema: anyObject } } },
  401: eapError('Unknown key (UNAUTHORIZED).'),
});

const amplitudeError = (description: string, headers?: object) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          code: { type: 'integer' },
          error: { type: 'string' },
          error_code: { type: 'string', description: 'The EAP error code.' },
          missing_field: { type: 'string' },
          events_with_invalid_fields: { type: 'object', additionalProperties: { type: 'array', items: { type: 'integer' } } },
          events_with_missing_fields: { type: 'object', additionalProperties: { type: 'array', items: { type: 'integer' } } },
          events_ingested: { type: 'integer', description: 'Events of this request that were stored.' },
          rejected: rejectedList,
        },
        required: ['code', 'error'],
      },
    },
  },
  ...(headers ? { headers } : {}),
});

export function compatOpenApiPaths() {
  return {
    '/v1/track': segmentPost('Segment track call', 'segmentTrack', segmentMessage),
    '/v1/identify': segmentPost('Segment identify call ($identify with $set = traits)', 'segmentIdentify', segmentMessage),
    '/v1/page': segmentPost('Segment page call ($pageview)', 'segmentPage', segmentMessage),
    '/v1/screen': segmentPost('Segment screen call ($screen)', 'segmentScreen', segmentMessage),
    '/v1/group': segmentPost('Segment group call ($groupidentify)', 'segmentGroup', segmentMessage),
    '/v1/alias': segmentPost('Segment alias call ($create_alias)', 'segmentAlias', segmentMessage),
    '/v1/{type}': {
      ...segmentPost('analytics.js single call: t, i, p, s, g, a', 'segmentShortCall', segmentMessage),
      parameters: [{ name: 'type', in: 'path', required: true, schema: { type: 'string', enum: ['t', 'i', 'p', 's', 'g', 'a'] } }],
    },
    '/v1/import': segmentPost('Segment batch (import)', 'segmentImport', segmentBatch),
    '/v1/b': segmentPost('analytics.js batch', 'segmentShortBatch', segmentBatch),
    '/v1/projects/{write_key}/settings': {
      get: {
        summary: 'Segment CDN settings for analytics-next, pointing it at this API',
        operationId: 'segmentSettings',
        tags: [TAG],
        parameters: [{ ...keyParameter, name: 'write_key' }],
        responses: jsonOk(
          'integrations["Segment.io"] with apiKey, apiHost (this host + /v1) and protocol (X-Forwarded-Host/-Proto honoured).',
        ),
      },
    },
    '/capture': posthogCapture('PostHog capture (one event or a batch)', 'posthogCapture'),
    '/batch': posthogCapture('PostHog batch (posthog-node)', 'posthogBatch'),
    '/e': posthogCapture('PostHog capture (posthog-js); GET with ?data= too', 'posthogE'),
    '/i/v0/e': posthogCapture('PostHog capture (newer path)', 'posthogIV0E'),
    '/track': posthogCapture('PostHog capture (legacy path)', 'posthogTrack'),
    '/engage': posthogCapture('PostHog person update ($set event)', 'posthogEngage'),
    '/flags': {
      post: {
        summary: 'PostHog feature flags: none',
        operationId: 'posthogFlags',
        tags: [TAG],
        requestBody: { content: bodyContent(anyObject) },
        responses: jsonOk('`flags: {}` (v2 shape), errorsWhileComputingFlags false, and the remote config.'),
      },
    },
    '/decide': {
      post: {
        summary: 'PostHog decide (older clients): no feature flags',
        operationId: 'posthogDecide',
        tags: [TAG],
        requestBody: { content: bodyContent(anyObject) },
        responses: jsonOk('`featureFlags: {}` (or `flags: {}` with ?v=4 or later) and the remote config.'),
      },
    },
    '/array/{key}/config': {
      get: {
        summary: 'posthog-js remote config (JSON)',
        operationId: 'posthogConfig',
        tags: [TAG],
        parameters: [keyParameter],
        responses: jsonOk('gzip accepted, no feature flags, no recording, surveys or site apps.'),
      },
    },
    '/array/{key}/config.js': {
      get: {
        summary: 'posthog-js remote config (script)',
        operationId: 'posthogConfigScript',
        tags: [TAG],
        parameters: [keyParameter],
        responses: {
          200: {
            description: 'A script setting window._POSTHOG_REMOTE_CONFIG[key].',
            content: { 'application/javascript': { schema: { type: 'string' } } },
          },
          401: eapError('Unknown key (UNAUTHORIZED).'),
        },
      },
    },
    '/2/httpapi': {
      post: {
        summary: 'Amplitude HTTP V2 API',
        operationId: 'amplitudeHttpApi',
        tags: [TAG],
        description: `Amplitude: the key is \`api_key\` in the body. Every answer carries Amplitude's \`code\`. ${encodings}`,
        requestBody: {
          required: true,
          content: bodyContent({
            type: 'object',
            properties: {
              api_key: { type: 'string' },
              events: { type: 'array', items: anyObject, minItems: 1, maxItems: 1000 },
              options: anyObject,
              client_upload_time: { type: 'string', format: 'date-time' },
            },
            required: ['api_key', 'events'],
          }),
        },
        responses: {
          200: {
            description: 'Every event stored.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    code: { type: 'integer', const: 200 },
                    events_ingested: { type: 'integer' },
                    payload_size_bytes: { type: 'integer' },
                    server_upload_time: { type: 'integer' },
                  },
                  required: ['code', 'events_ingested', 'payload_size_bytes', 'server_upload_time'],
                },
              },
            },
          },
          400: amplitudeError(
            'Invalid events (events_with_invalid_fields / events_with_missing_fields; the valid ones were stored, events_ingested), a missing field (missing_field), an unknown or read key ("Invalid API key"), or a malformed body.',
          ),
          403: amplitudeError('An Origin the project does not allow.'),
          413: amplitudeError('Body over the size limit, or more than 1,000 events.'),
          415: amplitudeError('Unsupported Content-Type or encoding.'),
          429: amplitudeError('Rate limited; retry after Retry-After.', retryAfter),
          503: amplitudeError('Backlog full or stream unavailable; retry after Retry-After (insert_id dedupes).', retryAfter),
        },
      },
    },
  };
}
