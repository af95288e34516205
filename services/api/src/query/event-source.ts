import type { Filter } from './query-filters.ts';

/** What the rows of a query are read from. */
export interface EventSourceOptions {
  /** Bot events (events.is_bot) are read too. */
  includeBots: boolean;
  /** `distinct_id` is the user as counted by `count_by: 'person'`: the person id, or the distinct id without a person. */
  byPerson?: boolean;
  /** Expose `person_properties` (the person's properties, '{}' without a person) for person filters. */
  personProperties?: boolean;
}

/** True when some filter is on person properties. */
export const hasPersonFilters = (...lists: (readonly Filter[] | undefined)[]) =>
  lists.some((filters) => filters?.some((f) => f.source === 'person') ?? false);

/**
 * The events a query reads, as a FROM item named `alias` with the columns of `events`: plain
 * `events` when nothing else is needed; otherwise a subquery that PostgreSQL flattens into the
 * query (the conditions on project, event and time still reach the events indexes and prune
 * partitions) which leaves out bot events, and with persons joined:
 * - `distinct_id` becomes the person id (as text) for distinct ids with a person, so counting
 *   distinct `distinct_id` counts persons;
 * - `person_properties` holds the person's properties for person filters.
 * Each event looks its distinct id up by the primary key of person_distinct_ids.
 */
export function eventSource(o: EventSourceOptions, alias = 'events'): string {
  const bots = o.includeBots ? '' : ' WHERE NOT e.is_bot';
  if (!o.byPerson && !o.personProperties) return o.includeBots ? `events ${alias}` : `(SELECT * FROM events e${bots}) ${alias}`;
  const distinctId = o.byPerson ? 'coalesce(pd.person_id::text, e.distinct_id)' : 'e.distinct_id';
  const personJoin = o.personProperties ? ' LEFT JOIN persons pp ON pp.project_id = pd.project_id AND pp.id = pd.person_id' : '';
  const personProperties = o.personProperties ? `coalesce(pp.properties, '{}'::jsonb)` : `'{}'::jsonb`;
  return `(SELECT e.project_id, e.event_id, e.event, ${distinctId} AS distinct_id, e."timestamp", e.received_at, e.session_id,
            e.properties, e.context, e.is_bot, ${personProperties} AS person_properties
          FROM events e
          LEFT JOIN person_distinct_ids pd ON pd.project_id = e.project_id AND pd.distinct_id = e.distinct_id${personJoin}${bots}) ${alias}`;
}
