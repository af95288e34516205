import { z } from 'zod';
import {
  BatchRequest,
  CreatedProject,
  CreateProjectRequest,
  ERROR_CODES,
  ErrorResponse,
  IngestResponse,
  ProjectSettings,
  ProjectSettingsUpdate,
  ProjectSummary,
  SingleEventRequest,
} from '@eap/core';
import {
  EventsQuery,
  EventsResponse,
  FunnelRequest,
  FunnelResponse,
  PersonResponse,
  RetentionRequest,
  RetentionResponse,
  SchemaQuery,
  SchemaResponse,
  TrendsRequest,
  TrendsResponse,
} from './query/query.schemas.ts';
import { compatOpenApiPaths } from './compat/compat-openapi.ts';
import { DeletionReceipt } from './deletion.schemas.ts';

const ref = (schema: z.ZodType): { $ref: string } => {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error('schema used in the OpenAPI document has no id');
  return { $ref: `#/components/schemas/${id}` };
};

const json = (schema: z.ZodType) => ({ 'application/json': { schema: ref(schema) } });

const error = (description: string) => ({ description, content: json(ErrorResponse) });

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

const ingestResponses = {
  202: { description: 'Per-event outcome: accepted events are durably in the stream.', content: json(IngestResponse) },
  400: error(
    'Malformed JSON, invalid UTF-8, or an invalid request envelope (MALFORMED_JSON, INVALID_REQUEST, INVALID_EVENT, BATCH_TOO_LARGE).',
  ),
  401: error('Missing or unknown API key (UNAUTHORIZED).'),
  403: error("A read key was used (FORBIDDEN), or a browser Origin the project's allowed_origins does not list (ORIGIN_NOT_ALLOWED)."),
  413: error('Body larger than the limit after decompression (PAYLOAD_TOO_LARGE).'),
  415: error('Content-Type is not JSON, or Content-Encoding is not gzip/deflate (UNSUPPORTED_MEDIA_TYPE).'),
  429: { ...error('Per-key rate limit reached (RATE_LIMITED).'), headers: retryAfter },
  503: {
    ...error(
      'Backlog at its cap or stream unavailable (BACKLOG_FULL, STREAM_UNAVAILABLE). When Redis failed during the request, details.rejected lists every event with its event_id: resend them with those ids.',
    ),
    headers: retryAfter,
  },
};

const queryResponses = (ok: z.ZodType, description: string) => ({
  200: { description, content: json(ok) },
  400: error(
    'Invalid query; the message and details name each bad field (INVALID_QUERY, MALFORMED_JSON). Also INVALID_QUERY: an answer that would exceed 50,000 points or cells.',
  ),
  401: error('Missing or unknown API key (UNAUTHORIZED).'),
  403: error('A write key was used; queries need a read key (FORBIDDEN).'),
  404: error('This process does not serve queries (API_SERVE=ingest): send them to the query service (NOT_FOUND).'),
  429: {
    ...error(
      'Per-read-key query rate limit reached (RATE_LIMITED; QUERY_RATE_LIMIT_PER_SECOND, QUERY_RATE_LIMIT_BURST), or too many queries running for the read key or the process (TOO_MANY_QUERIES; details.limit is per_key or per_process: QUERY_MAX_CONCURRENT_PER_KEY, QUERY_MAX_CONCURRENT).',
    ),
    headers: retryAfter,
  },
  503: { ...error('PostgreSQL is unavailable (DATABASE_UNAVAILABLE).'), headers: retryAfter },
  504: error('The query ran longer than QUERY_TIMEOUT_MS (QUERY_TIMEOUT); narrow it.'),
});

const queryPost = (operationId: string, summary: string, body: z.ZodType, ok: z.ZodType, description: string) => ({
  post: {
    summary,
    operationId,
    tags: ['query'],
    security: [{ bearerKey: [] }, { apiKeyHeader: [] }],
    requestBody: { required: true, content: json(body) },
    responses: queryResponses(ok, description),
  },
});

const deletionResponses = (subject: 'person' | 'project') => ({
  200: {
    description:
      'Deleted (or deleted before: a repeated deletion answers with zero counts). The receipt, also kept in the deletions table.',
    content: json(DeletionReceipt),
  },
  400: error('The project id is not a UUID (INVALID_REQUEST).'),
  401: error('Missing or wrong admin token (UNAUTHORIZED).'),
  403: error('Admin routes are disabled (FORBIDDEN).'),
  404: error(subject === 'person' ? 'No such project, or nothing known of the distinct id (NOT_FOUND).' : 'No such project (NOT_FOUND).'),
  503: error('PostgreSQL is unavailable (DATABASE_UNAVAILABLE); run the deletion again, it resumes.'),
});

type Components = Record<string, unknown>;

/** Query-string parameters of a GET route: the properties of its zod object schema's component. */
const queryParameters = (components: Components, schema: z.ZodType) => {
  const id = z.globalRegistry.get(schema)?.id;
  const component = id ? (components[id] as { properties: Record<string, { description?: string }>; required?: string[] }) : undefined;
  if (!component) throw new Error('query-string schema used in the OpenAPI document has no component');
  return Object.entries(component.properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query',
      required: component.required?.includes(name) ?? false,
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
};

const queryGet = (components: Components, operationId: string, summary: string, params: z.ZodType, ok: z.ZodType, description: string) => ({
  get: {
    summary,
    operationId,
    tags: ['query'],
    security: [{ bearerKey: [] }, { apiKeyHeader: [] }],
    parameters: queryParameters(components, params),
    responses: queryResponses(ok, description),
  },
});

const compressedBody = (schema: z.ZodType, description: string) => ({
  required: true,
  description: `${description} May be sent with Content-Encoding gzip or deflate.`,
  content: { 'application/json': { schema: ref(schema) }, 'text/plain': { schema: ref(schema) } },
});

/**
 * The OpenAPI 3.1 document of the public API, generated from the same zod schemas that validate
 * requests. `make openapi` writes it to docs/openapi.json; a test fails when that copy drifts.
 */
export function buildOpenApiDocument(version = '0.1.0') {
  const components = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  for (const schema of Object.values(components)) {
    delete (schema as Record<string, unknown>).$schema;
    delete (schema as Record<string, unknown>).$id;
    delete (schema as Record<string, unknown>).id;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'EAP API',
      version,
      description: `Self-hosted event analytics. Error codes: ${Object.keys(ERROR_CODES).join(', ')}.`,
    },
    servers: [{ url: '/' }],
    components: {
      schemas: components,
      securitySchemes: {
        bearerKey: { type: 'http', scheme: 'bearer', description: 'A project write key (ingest) or read key (query).' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'EAP_ADMIN_TOKEN.' },
        basicWriteKey: { type: 'http', scheme: 'basic', description: 'Segment SDKs: the write key as the user name, empty password.' },
      },
    },
    paths: {
      '/v1/query/trends': queryPost(
        'queryTrends',
        'Events over time: count, unique users, sum or average of a property, per bucket of a time zone',
        TrendsRequest,
        TrendsResponse,
        'One series per event (and breakdown value); every bucket present, empty ones as 0.',
      ),
      '/v1/query/funnel': queryPost(
        'queryFunnel',
        'Ordered funnel: users reaching each step within a window from their first step',
        FunnelRequest,
        FunnelResponse,
        'Users per step with conversion rates.',
      ),
      '/v1/query/retention': queryPost(
        'queryRetention',
        'Retention cohorts: users returning in each day or week after their first cohort event',
        RetentionRequest,
        RetentionResponse,
        'One cohort per period of the range.',
      ),
      '/v1/query/events': queryGet(
        components,
        'listEvents',
        'Raw events, newest first, with cursor pagination',
        EventsQuery,
        EventsResponse,
        'A page of events and the cursor of the next one.',
      ),
      '/v1/query/schema': queryGet(
        components,
        'querySchema',
        'Event names with counts, properties with types and top values',
        SchemaQuery,
        SchemaResponse,
        "The project's event names and properties.",
      ),
      '/v1/persons/{distinct_id}': {
        get: {
          summary: 'The person of a distinct id: every linked distinct id, person properties, first and last seen',
          operationId: 'getPerson',
          tags: ['query'],
          security: [{ bearerKey: [] }, { apiKeyHeader: [] }],
          parameters: [
            {
              name: 'distinct_id',
              in: 'path',
              required: true,
              description: 'Any distinct id of the person, URL-encoded.',
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
          ],
          responses: {
            ...queryResponses(
              PersonResponse,
              'The person; for a distinct id with events but no person, a person of its own (person_id null).',
            ),
            404: error('No person and no events for the distinct id (NOT_FOUND), or this process does not serve queries.'),
          },
        },
      },
      '/v1/events': {
        post: {
          summary: 'Ingest one event',
          operationId: 'ingestEvent',
          security: [{ bearerKey: [] }, { apiKeyHeader: [] }],
          requestBody: compressedBody(SingleEventRequest, 'One event.'),
          responses: ingestResponses,
        },
      },
      '/v1/batch': {
        post: {
          summary: 'Ingest up to 1,000 events; each is accepted or rejected on its own',
          operationId: 'ingestBatch',
          description:
            'Also Segment\'s batch path: a body `{"batch": [...], "writeKey"?, "sentAt"?}` is a Segment batch, keyed by HTTP Basic or `writeKey` and answered as /v1/import is (200 `{success, accepted, rejected}`, tag SDK-compatible; docs/sdk-endpoints.md).',
          security: [{ bearerKey: [] }, { apiKeyHeader: [] }, { basicWriteKey: [] }],
          requestBody: compressedBody(BatchRequest, 'A batch of events.'),
          responses: ingestResponses,
        },
      },
      '/v1/projects/{project_id}': {
        delete: {
          summary: 'Delete a project: revoke its keys, then remove every row of it in small batches (admin)',
          operationId: 'deleteProject',
          security: [{ adminToken: [] }],
          parameters: [{ name: 'project_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: deletionResponses('project'),
        },
      },
      '/v1/projects/{project_id}/settings': {
        patch: {
          summary: "Change some of a project's collection settings (admin); running APIs apply them within KEY_CACHE_TTL_MS",
          operationId: 'updateProjectSettings',
          security: [{ adminToken: [] }],
          parameters: [{ name: 'project_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          requestBody: { required: true, content: json(ProjectSettingsUpdate) },
          responses: {
            200: {
              description: 'Every setting of the project after the change.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { project_id: { type: 'string', format: 'uuid' }, settings: ref(ProjectSettings) },
                    required: ['project_id', 'settings'],
                  },
                },
              },
            },
            400: error('Invalid body: unknown setting, wrong type, an origin with a path (INVALID_REQUEST).'),
            401: error('Missing or wrong admin token (UNAUTHORIZED).'),
            403: error('Admin routes are disabled (FORBIDDEN).'),
            404: error('No such project (NOT_FOUND).'),
          },
        },
      },
      '/v1/projects/{project_id}/persons/{distinct_id}': {
        delete: {
          summary: 'Delete a person: every event, dedup row and rollup share of all its distinct ids, then the person (admin)',
          operationId: 'deletePerson',
          security: [{ adminToken: [] }],
          parameters: [
            { name: 'project_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
            {
              name: 'distinct_id',
              in: 'path',
              required: true,
              description: 'Any distinct id of the person; all of its distinct ids are deleted.',
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
          ],
          responses: deletionResponses('person'),
        },
      },
      '/v1/projects': {
        post: {
          summary: 'Create a project with a write key and a read key (admin)',
          operationId: 'createProject',
          security: [{ adminToken: [] }],
          requestBody: { required: true, content: json(CreateProjectRequest) },
          responses: {
            201: { description: 'The project and its keys, shown only this once.', content: json(CreatedProject) },
            400: error('Invalid body (INVALID_REQUEST).'),
            401: error('Missing or wrong admin token (UNAUTHORIZED).'),
            403: error('Admin routes are disabled (FORBIDDEN).'),
          },
        },
        get: {
          summary: 'List projects with the prefixes of their active keys (admin)',
          operationId: 'listProjects',
          security: [{ adminToken: [] }],
          responses: {
            200: {
              description: 'Projects.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { projects: { type: 'array', items: ref(ProjectSummary) } },
                    required: ['projects'],
                  },
                },
              },
            },
            401: error('Missing or wrong admin token (UNAUTHORIZED).'),
          },
        },
      },
      ...compatOpenApiPaths(),
    },
  };
}
export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
