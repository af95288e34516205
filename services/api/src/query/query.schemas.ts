import { z } from 'zod';

/**
 * Request and response schemas of the query API. They validate requests and produce the
 * OpenAPI document (each `meta({ id })` becomes a component), so docs and behaviour cannot drift.
 */

/** Limits of the query API; the docs and the error messages quote them. */
export const QUERY_LIMITS = {
  maxBuckets: 2000,
  maxEvents: 10,
  maxBreakdownLimit: 25,
  defaultBreakdownLimit: 10,
  maxFilters: 20,
  minFunnelSteps: 2,
  maxFunnelSteps: 10,
  maxWindowSeconds: 90 * 86_400,
  maxRetentionPeriods: 52,
  maxPageSize: 1000,
  defaultPageSize: 100,
  /** Rows of one answer (trends points, retention cells): bounds the work and memory of the API process. */
  maxResultRows: 50_000,
  maxSchemaEvents: 10_000,
  defaultSchemaEvents: 1000,
  /** Properties the schema lists, the most frequent first. */
  maxSchemaProperties: 500,
  propertyNameMaxLength: 200,
} as const;

const eventName = z.string().min(1, { error: 'must be at least 1 character' }).max(200, { error: 'must be at most 200 characters' });

export const propertyName = z
  .string()
  .min(1, { error: 'must be at least 1 character' })
  .max(QUERY_LIMITS.propertyNameMaxLength, { error: `must be at most ${QUERY_LIMITS.propertyNameMaxLength} characters` })
  .meta({ description: 'A top-level key of the event properties. Any text: it is sent to PostgreSQL as a bind parameter.' });

/** A point in time: ISO 8601 with a time zone, or a date (midnight in the query's timezone). */
export const QueryTime = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an ISO 8601 date-time with a time zone (2026-01-31T12:00:00Z) or a date (2026-01-31)',
  })
  .meta({
    id: 'QueryTime',
    description:
      'ISO 8601 date-time with a time zone, or a date meaning midnight in the query timezone. `from` is inclusive, `to` exclusive.',
  });

export const Timezone = z
  .string()
  .min(1)
  .max(64)
  .default('UTC')
  .meta({ description: 'IANA time zone (America/New_York) for buckets and date-only times. Default UTC.' });

export const FILTER_OPERATORS = ['eq', 'neq', 'contains', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;

const scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);

export const FILTER_SOURCES = ['event', 'person'] as const;

export const PropertyFilter = z
  .strictObject({
    source: z
      .enum(FILTER_SOURCES, { error: `must be one of ${FILTER_SOURCES.join(', ')}` })
      .default('event')
      .meta({
        description:
          "event (default): a property of the event; person: a property of the person of the event's distinct id (its current value; a distinct id without a person has no person properties).",
      }),
    property: propertyName,
    operator: z.enum(FILTER_OPERATORS, { error: `must be one of ${FILTER_OPERATORS.join(', ')}` }),
    value: scalar
      .optional()
      .meta({ description: 'eq/neq: a string, number or boolean (typed: 1 is not "1"); contains: text; gt/gte/lt/lte: a number.' }),
  })
  .superRefine((f, ctx) => {
    const needsValue = f.operator !== 'is_set' && f.operator !== 'is_not_set';
    if (needsValue && f.value === undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: `is required for operator ${f.operator}` });
    if (!needsValue && f.value !== undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be absent for operator ${f.operator}` });
    if (['gt', 'gte', 'lt', 'lte'].includes(f.operator) && f.value !== undefined && typeof f.value !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be a number for operator ${f.operator}` });
    }
    if (f.operator === 'contains' && f.value !== undefined && typeof f.value !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be a string for operator contains' });
    }
  })
  .meta({
    id: 'PropertyFilter',
    description:
      'A condition on one event property (or person property, with source person). neq and is_not_set match events without the property; contains is a case-insensitive substring match on the text of the value; gt/gte/lt/lte match numeric values only.',
  });
export type PropertyFilter = z.infer<typeof PropertyFilter>;

const filters = z.array(PropertyFilter).max(QUERY_LIMITS.maxFilters, { error: `at most ${QUERY_LIMITS.maxFilters} filters` });

export const COUNT_BY = ['distinct_id', 'person'] as const;

const countBy = z
  .enum(COUNT_BY, { error: `must be one of ${COUNT_BY.join(', ')}` })
  .default('distinct_id')
  .meta({
    description:
      'What a user is: distinct_id (default) counts each distinct id; person counts the distinct ids linked to one person (by $identify, $anon_distinct_id or $create_alias) once. A distinct id without a person is a person of its own.',
  });

const includeBots = z
  .boolean({ error: 'must be true or false' })
  .default(false)
  .meta({ description: 'Count events marked as bot traffic (events.is_bot) too. Default false: bot events are left out.' });

/** include_bots in a query string: the text true or false. */
const includeBotsParam = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .optional()
  .meta({ description: 'true: list events marked as bot traffic (events.is_bot) too. Default false: they are left out.' });

export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export const MEASURES = ['count', 'unique_users', 'sum', 'avg'] as const;

export const TrendsRequest = z
  .strictObject({
    events: z
      .array(eventName)
      .min(1, { error: 'must name at least 1 event' })
      .max(QUERY_LIMITS.maxEvents, { error: `must name at most ${QUERY_LIMITS.maxEvents} events` }),
    from: QueryTime,
    to: QueryTime,
    interval: z.enum(INTERVALS, { error: `must be one of ${INTERVALS.join(', ')}` }),
    measure: z.enum(MEASURES, { error: `must be one of ${MEASURES.join(', ')}` }).default('count'),
    property: propertyName.optional().meta({ description: 'Numeric property for sum and avg; non-numeric values are ignored.' }),
    breakdown: propertyName.optional().meta({ description: 'Property whose values split each series.' }),
    breakdown_limit: z
      .int()
      .min(1)
      .max(QUERY_LIMITS.maxBreakdownLimit)
      .default(QUERY_LIMITS.defaultBreakdownLimit)
      .meta({ description: 'Top values kept per event; the rest are summed into one "other" series.' }),
    filters: filters.optional(),
    count_by: countBy.meta({ description: 'For measure unique_users: what a user is (distinct_id or person).' }),
    include_bots: includeBots,
    timezone: Timezone,
  })
  .superRefine((r, ctx) => {
    if ((r.measure === 'sum' || r.measure === 'avg') && r.property === undefined) {
      ctx.addIssue({ code: 'custom', path: ['property'], message: `is required for measure ${r.measure}` });
    }
  })
  .meta({ id: 'TrendsRequest' });
export type TrendsRequest = z.infer<typeof TrendsRequest>;

const QueryMeta = z
  .object({
    source: z.enum(['rollup', 'events']).meta({ description: 'rollup: answered from the pre-aggregated tables; events: from raw events.' }),
    approximate: z.boolean().meta({ description: 'True when a figure is an estimate. Every answer is currently exact.' }),
  })
  .meta({ id: 'QueryMeta' });

export const TrendsResponse = z
  .object({
    series: z.array(
      z.object({
        event: z.string(),
        breakdown_value: z
          .string()
          .nullable()
          .optional()
          .meta({ description: 'The breakdown value; null for events without the property; "$other" for the rest.' }),
        other: z.boolean().optional().meta({ description: 'True for the series summing every value outside the top N.' }),
        points: z.array(
          z.object({
            t: z.string().meta({ description: 'Bucket start in the query timezone, e.g. 2026-03-08T00:00:00-05:00.' }),
            value: z.number(),
          }),
        ),
      }),
    ),
    meta: QueryMeta,
  })
  .meta({ id: 'TrendsResponse' });

export const FunnelStep = z
  .union([eventName, z.strictObject({ event: eventName, filters: filters.optional() })])
  .meta({ id: 'FunnelStep', description: 'An event name, or an event name with property filters.' });

export const FunnelRequest = z
  .strictObject({
    steps: z
      .array(FunnelStep)
      .min(QUERY_LIMITS.minFunnelSteps, { error: `must have at least ${QUERY_LIMITS.minFunnelSteps} steps` })
      .max(QUERY_LIMITS.maxFunnelSteps, { error: `must have at most ${QUERY_LIMITS.maxFunnelSteps} steps` }),
    from: QueryTime,
    to: QueryTime,
    window_seconds: z
      .int({ error: 'must be an integer number of seconds' })
      .min(1)
      .max(QUERY_LIMITS.maxWindowSeconds, { error: `must be at most ${QUERY_LIMITS.maxWindowSeconds} (90 days)` })
      .meta({ description: "Time allowed from a user's first step-1 event to the last step (inclusive)." }),
    breakdown: propertyName.optional().meta({ description: "Property of the user's first step-1 event that splits the funnel." }),
    breakdown_limit: z.int().min(1).max(QUERY_LIMITS.maxBreakdownLimit).default(QUERY_LIMITS.defaultBreakdownLimit),
    count_by: countBy,
    include_bots: includeBots,
    timezone: Timezone,
  })
  .meta({ id: 'FunnelRequest' });
export type FunnelRequest = z.infer<typeof FunnelRequest>;

const FunnelSteps = z.array(
  z.object({
    event: z.string(),
    count: z.int().meta({ description: 'Users who reached this step in order, within the window.' }),
    conversion: z.number().meta({ description: 'count / users at step 1 (0 when nobody started).' }),
    conversion_from_previous: z.number().meta({ description: 'count / users at the previous step.' }),
  }),
);

export const FunnelResponse = z
  .object({
    steps: FunnelSteps,
    breakdown: z.array(z.object({ breakdown_value: z.string().nullable(), other: z.boolean().optional(), steps: FunnelSteps })).optional(),
    meta: QueryMeta,
  })
  .meta({ id: 'FunnelResponse' });

export const RetentionRequest = z
  .strictObject({
    cohort_event: eventName,
    return_event: eventName,
    from: QueryTime,
    to: QueryTime,
    period: z.enum(['day', 'week'], { error: 'must be day or week' }),
    periods: z
      .int()
      .min(1)
      .max(QUERY_LIMITS.maxRetentionPeriods)
      .meta({ description: 'Periods reported per cohort, period 0 (the cohort period) included.' }),
    count_by: countBy,
    include_bots: includeBots,
    timezone: Timezone,
  })
  .meta({ id: 'RetentionRequest' });
export type RetentionRequest = z.infer<typeof RetentionRequest>;

export const RetentionResponse = z
  .object({
    cohorts: z.array(
      z.object({
        start: z.string().meta({ description: 'Start of the cohort period in the query timezone.' }),
        size: z.int().meta({ description: 'Users whose first cohort event in range falls in this period.' }),
        returned: z.array(z.int()).meta({
          description:
            'returned[k]: cohort users with a return event in the k-th period after the cohort period (k = 0 is the cohort period).',
        }),
      }),
    ),
    meta: QueryMeta,
  })
  .meta({ id: 'RetentionResponse' });

export const EventsQuery = z
  .strictObject({
    from: QueryTime.optional().meta({ description: 'Default: 7 days before `to`.' }),
    to: QueryTime.optional().meta({ description: 'Default: now.' }),
    event: z
      .union([eventName, z.array(eventName).max(QUERY_LIMITS.maxEvents)])
      .optional()
      .meta({ description: 'Event name(s); repeat the parameter for several.' }),
    distinct_id: z.string().min(1).max(200).optional(),
    properties: z
      .string()
      .max(4000)
      .optional()
      .meta({ description: 'JSON object of property equality conditions, e.g. {"plan":"pro"} (typed: 1 is not "1").' }),
    limit: z.coerce.number().int().min(1).max(QUERY_LIMITS.maxPageSize).default(QUERY_LIMITS.defaultPageSize),
    cursor: z.string().max(1000).optional().meta({ description: '`next_cursor` of the previous page.' }),
    include_bots: includeBotsParam,
    timezone: Timezone,
  })
  .meta({ id: 'EventsQuery' });

export const EventsResponse = z
  .object({
    events: z.array(
      z.object({
        event_id: z.string(),
        event: z.string(),
        distinct_id: z.string(),
        timestamp: z.string(),
        received_at: z.string(),
        session_id: z.string().nullable(),
        properties: z.record(z.string(), z.unknown()),
        context: z.record(z.string(), z.unknown()).nullable(),
      }),
    ),
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .meta({ id: 'EventsResponse' });

export const SchemaQuery = z
  .strictObject({
    from: QueryTime.optional().meta({ description: 'Default: 30 days before `to`.' }),
    to: QueryTime.optional().meta({ description: 'Default: now.' }),
    limit: z.coerce
      .number({ error: 'must be a number' })
      .int({ error: 'must be an integer' })
      .min(1, { error: 'must be at least 1' })
      .max(QUERY_LIMITS.maxSchemaEvents, { error: `must be at most ${QUERY_LIMITS.maxSchemaEvents}` })
      .default(QUERY_LIMITS.defaultSchemaEvents)
      .meta({
        description: `Event names listed at most, the most frequent first (default ${QUERY_LIMITS.defaultSchemaEvents}, at most ${QUERY_LIMITS.maxSchemaEvents}); \`truncated.events\` says whether there were more.`,
      }),
    include_bots: includeBotsParam.meta({
      description: 'true: count events marked as bot traffic (events.is_bot) too. Default false: they are left out.',
    }),
    timezone: Timezone,
  })
  .meta({ id: 'SchemaQuery' });

export const SchemaResponse = z
  .object({
    events: z.array(z.object({ event: z.string(), count: z.int() })),
    properties: z.array(
      z.object({
        property: z.string(),
        types: z.array(z.string()).meta({ description: 'JSON types seen: string, number, boolean, object, array, null.' }),
        count: z.int().meta({ description: 'Sampled events carrying the property.' }),
        top_values: z.array(z.object({ value: z.union([z.string(), z.number(), z.boolean()]), count: z.int() })),
      }),
    ),
    properties_sample: z.object({
      events: z.int().meta({ description: 'Events the property list was read from.' }),
      from: z.string(),
      to: z.string(),
    }),
    truncated: z
      .object({
        events: z.boolean().meta({ description: 'True when the range has more event names than `limit`: the rarest are left out.' }),
        properties: z.boolean().meta({
          description: `True when the sample has more than ${QUERY_LIMITS.maxSchemaProperties} properties: the rarest are left out.`,
        }),
      })
      .meta({ description: 'Whether a list was cut to its limit.' }),
  })
  .meta({ id: 'SchemaResponse' });

export const PersonParams = z
  .strictObject({
    distinct_id: z
      .string()
      .min(1, { error: 'must be at least 1 character' })
      .max(200, { error: 'must be at most 200 characters' })
      .meta({ description: 'Any distinct id of the person (URL-encoded).' }),
  })
  .meta({ id: 'PersonParams' });

export const PersonResponse = z
  .object({
    person_id: z
      .string()
      .nullable()
      .meta({ description: 'The person id; null when the distinct id has events but no person (it is a person of its own).' }),
    distinct_ids: z.array(z.string()).meta({ description: 'Every distinct id linked to the person, sorted.' }),
    properties: z.record(z.string(), z.unknown()).meta({ description: 'Person properties ($set, $set_once, $unset).' }),
    is_identified: z.boolean().meta({ description: 'True once a known user id ($identify, $anon_distinct_id) was linked to it.' }),
    first_seen: z.string().meta({ description: 'Time of its first non-bot event (UTC, ISO 8601).' }),
    last_seen: z.string().meta({ description: 'Time of its last non-bot event (UTC, ISO 8601).' }),
  })
  .meta({ id: 'PersonResponse' });
