import { z } from 'zod';
import { textProblem } from './json-value-check.ts';
import { ProjectSettings } from './project-settings.ts';

/** Limits of the ingest contract; change them here and the API, worker and docs follow. */
export const EVENT_LIMITS = {
  nameMaxLength: 200,
  distinctIdMaxLength: 200,
  eventIdMaxLength: 128,
  sessionIdMaxLength: 200,
  propertiesMaxBytes: 32 * 1024,
  propertiesMaxDepth: 10,
  /** The event's whole `context` object: the same bounds as `properties`. */
  contextMaxBytes: 32 * 1024,
  contextMaxDepth: 10,
  batchMaxEvents: 1000,
  /** Event times further in the future than this (after skew correction) become receive time. */
  maxFutureMs: 23 * 60 * 60 * 1000,
} as const;

/** A string PostgreSQL can store: no NUL characters, no unpaired surrogates. */
function storableText(min: number, max: number) {
  return z
    .string()
    .min(min, { error: `must be at least ${min} character${min === 1 ? '' : 's'}` })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => textProblem(s) === undefined, { error: (issue) => textProblem(String(issue.input)) ?? 'invalid text' });
}

/** Most digits after the decimal point of a time; PostgreSQL keeps microseconds anyway. */
const MAX_FRACTION_DIGITS = 9;
const TOO_PRECISE = new RegExp(`\\.\\d{${MAX_FRACTION_DIGITS + 1}}`);

const isoTimestamp = z.iso
  .datetime({
    offset: true,
    error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T12:00:00.000Z',
  })
  .max(40, { error: `must be at most 40 characters, with at most ${MAX_FRACTION_DIGITS} fractional digits` })
  .refine((s) => s.length > 40 || !TOO_PRECISE.test(s), { error: `must have at most ${MAX_FRACTION_DIGITS} fractional digits` })
  // PostgreSQL has no year 0 (1 BC comes before AD 1): it would refuse the row after the 202.
  .refine((s) => !s.startsWith('0000'), { error: 'must be in the years 0001 to 9999' });

/**
 * Where the event came from. The keys EAP reads are validated; any other key (an SDK's `app`,
 * `os`, `device`, `locale`, `page`, ...) is kept as sent. The whole object is bounded like
 * `properties` (see `checkJsonObject`, applied by the ingest path on the raw input).
 */
export const EventContext = z
  .looseObject({
    ip: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }).optional().meta({
      description:
        "The end user's IP address, when a server forwards its user's event; it replaces the sender's address for GeoIP. Stored only when the project's store_ip setting is on.",
    }),
    user_agent: storableText(1, 1000)
      .optional()
      .meta({ description: "The end user's user agent, when a server forwards its user's event; it replaces the request's." }),
    library: z
      .strictObject({
        name: storableText(1, 200),
        version: storableText(1, 100).optional(),
      })
      .optional(),
  })
  .meta({
    description:
      'Where the event came from. Optional. `ip`, `user_agent` and `library` are validated; other keys are kept as sent. At most 32 KiB serialized and 10 levels deep. The server adds `user_agent`, `browser`, `os`, `device`, `geo`, `bot` and (with store_ip) `ip` from the request, unless the event names its own (docs/enrichment.md).',
  });

/**
 * One event as a client sends it. Unknown top-level fields are rejected (not dropped) so typos
 * such as `distinctId` are caught at once. `properties` is checked further by the ingest path
 * (size, depth, storable strings), see `checkJsonObject`.
 */
export const IngestEvent = z
  .strictObject({
    event: storableText(1, EVENT_LIMITS.nameMaxLength).meta({ description: 'Event name, free-form.' }),
    distinct_id: storableText(1, EVENT_LIMITS.distinctIdMaxLength).meta({
      description: 'Identifier of the user or device the event belongs to.',
    }),
    event_id: storableText(1, EVENT_LIMITS.eventIdMaxLength).optional().meta({
      description:
        'Client idempotency key: copies with the same event_id are stored once (the first one kept, whatever time a retry carries) within the dedup window of 7 days by default. The server assigns a UUIDv7 when absent.',
    }),
    timestamp: isoTimestamp.optional().meta({ description: 'When the event happened (ISO 8601). Absent: receive time.' }),
    session_id: storableText(1, EVENT_LIMITS.sessionIdMaxLength).optional(),
    properties: z
      .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
      .optional()
      .meta({ description: 'Free-form JSON object, at most 32 KiB serialized and 10 levels deep.' }),
    context: EventContext.optional(),
  })
  .meta({ id: 'Event' });
export type IngestEvent = z.infer<typeof IngestEvent>;

/** Body of `POST /v1/events`: one event, optionally with the client's send time for skew correction. */
export const SingleEventRequest = IngestEvent.extend({
  sent_at: isoTimestamp.optional().meta({ description: 'Client clock when the request was sent; enables clock-skew correction.' }),
}).meta({ id: 'SingleEventRequest' });
export type SingleEventRequest = z.infer<typeof SingleEventRequest>;

const batchEvents = (item: z.ZodType) =>
  z
    .array(item, { error: 'must be an array of events' })
    .min(1, { error: 'must contain at least one event' })
    .max(EVENT_LIMITS.batchMaxEvents, { error: `must contain at most ${EVENT_LIMITS.batchMaxEvents} events` });

/** Body of `POST /v1/batch` as documented. */
export const BatchRequest = z
  .strictObject({
    sent_at: isoTimestamp.optional().meta({ description: 'Client clock when the batch was sent; enables clock-skew correction.' }),
    events: batchEvents(IngestEvent),
  })
  .meta({ id: 'BatchRequest' });

/**
 * The batch envelope as parsed: events stay unvalidated here so each one is validated on its own
 * and a bad event rejects only itself.
 */
export const BatchEnvelope = BatchRequest.extend({ events: batchEvents(z.unknown()) });
export type BatchEnvelope = z.infer<typeof BatchEnvelope>;

export const RejectedEvent = z
  .object({
    index: z.int().meta({ description: 'Position of the event in the request (0 for a single event).' }),
    event_id: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
    retriable: z.boolean().meta({ description: 'True when the event was valid but could not be stored; retry it.' }),
  })
  .meta({ id: 'RejectedEvent' });
export type RejectedEvent = z.infer<typeof RejectedEvent>;

/** 202 body: how many events were accepted (durably appended) and why each other one was not. */
export const IngestResponse = z
  .object({
    accepted: z.int().meta({ description: 'Events durably appended to the stream.' }),
    rejected: z.array(RejectedEvent),
  })
  .meta({ id: 'IngestResponse' });
export type IngestResponse = z.infer<typeof IngestResponse>;

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable error code, e.g. INVALID_EVENT, UNAUTHORIZED, BACKLOG_FULL.' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** Body of `POST /v1/projects`. */
export const CreateProjectRequest = z
  .strictObject({ name: storableText(1, 200).meta({ description: 'Human-readable project name.' }) })
  .meta({ id: 'CreateProjectRequest' });

/** A new project and its keys; the only time the keys are shown. */
export const CreatedProject = z
  .object({
    project_id: z.uuid(),
    name: z.string(),
    write_key: z.string().meta({ description: 'Ingest key. Shown only once; store it now.' }),
    read_key: z.string().meta({ description: 'Query key. Shown only once; store it now.' }),
  })
  .meta({ id: 'CreatedProject' });

export const ProjectSummary = z
  .object({
    project_id: z.uuid(),
    name: z.string(),
    created_at: z.string(),
    write_key_prefixes: z.array(z.string()),
    read_key_prefixes: z.array(z.string()),
    settings: ProjectSettings,
  })
  .meta({ id: 'ProjectSummary' });
