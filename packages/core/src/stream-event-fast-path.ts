import type { z } from 'zod';
import { boundedText, formatCheck, isJsonParsedObject } from './schema-fast-path.ts';
import type { StreamEvent, StreamEventHead } from './stream-entry.ts';

/**
 * The worker's shortcut for `StreamEvent.parse` of an entry the API wrote, built from the schema
 * (`stream-entry.ts` passes it in): the returned function accepts the decoded entry only when it
 * is certainly what the schema accepts and returns it as it is (no copy); anything else (an
 * unknown key, a missing field, a value of another type or out of bounds) gives `undefined` and
 * is parsed by the schema, which gives the precise error. The schema's copies of properties and
 * context were a share of the worker's garbage per event. Checked against the schema over
 * generated entries by `stream-event-fast-path.test.ts`. Given the head's schema (no properties,
 * no context), the returned function checks a version 2 entry's first line the same way.
 */
export function streamEventFastPath<S extends typeof StreamEvent | typeof StreamEventHead>(schema: S) {
  const shape = schema.shape;
  const withObjects = 'properties' in shape;
  const keys = new Set(Object.keys(shape));
  const text = (field: Parameters<typeof boundedText>[0]) => boundedText(field, { storable: false });
  const eventId = text(shape.event_id);
  const eventName = text(shape.event);
  const distinctId = text(shape.distinct_id);
  const clientTimestamp = text(shape.client_timestamp.unwrap());
  const sessionId = text(shape.session_id.unwrap());
  // The schema's own checks for the fields whose format is a regular expression.
  const uuid = formatCheck(shape.project_id);
  const time = formatCheck(shape.timestamp);

  return function parseStreamEventFast(value: unknown): z.infer<S> | undefined {
    if (!isJsonParsedObject(value)) return undefined;
    for (const key in value) if (!keys.has(key)) return undefined;
    const e = value;
    if (!(uuid(e.project_id) && eventId(e.event_id) && eventName(e.event) && distinctId(e.distinct_id))) return undefined;
    if (!(time(e.timestamp) && time(e.received_at) && (e.sent_at === null || time(e.sent_at)))) return undefined;
    if (!((e.client_timestamp === null || clientTimestamp(e.client_timestamp)) && (e.session_id === null || sessionId(e.session_id))))
      return undefined;
    if (withObjects && !(isJsonParsedObject(e.properties) && (e.context === null || isJsonParsedObject(e.context)))) return undefined;
    if (!(e.is_bot === undefined || typeof e.is_bot === 'boolean')) return undefined;
    return e as z.infer<S>;
  };
}
