import { EventContext, IngestEvent } from './event-schema.ts';
import { boundedText, formatCheck, isJsonParsedObject } from './schema-fast-path.ts';

/**
 * The ingest path's shortcut for `IngestEvent.safeParse`: accepts the common, certainly valid
 * event without zod's object machinery (its walk over every key, its issue lists and the copy it
 * returns), which a profile of batch ingest put at about a seventh of the API's CPU. Whatever it
 * is not sure of (a missing or unknown key, a null, a value of another type, a string out of
 * bounds) returns `undefined`, and the caller parses with the schema, which gives the precise
 * errors. It only ever accepts what the schema accepts: `ingest-event-fast-path.test.ts` checks
 * that over generated valid and invalid events, and that the two agree on the result.
 *
 * Every bound comes from the schema: text lengths from its string schemas, and the date-time of
 * `timestamp` and an IPv4 `context.ip` by the pattern, lengths and refinements of those fields'
 * schemas (`formatCheck`); an IPv6 address is checked by its schema. `properties` and the
 * free-form keys of `context` are returned as given: the ingest path checks and serializes the
 * raw objects itself (`checkJsonObject`).
 */
export function parseIngestEventFast(raw: unknown): IngestEvent | undefined {
  if (!isJsonParsedObject(raw)) return undefined;
  for (const key in raw) if (!TOP_LEVEL_KEYS.has(key)) return undefined;
  const { event, distinct_id, event_id, timestamp, session_id, properties, context } = raw;
  if (!EVENT(event) || !DISTINCT_ID(distinct_id)) return undefined;
  const parsed: IngestEvent = { event, distinct_id };
  if (event_id !== undefined) {
    if (!EVENT_ID(event_id)) return undefined;
    parsed.event_id = event_id;
  }
  if (timestamp !== undefined) {
    if (!TIMESTAMP(timestamp)) return undefined;
    parsed.timestamp = timestamp;
  }
  if (session_id !== undefined) {
    if (!SESSION_ID(session_id)) return undefined;
    parsed.session_id = session_id;
  }
  if (properties !== undefined) {
    if (!isJsonParsedObject(properties)) return undefined;
    parsed.properties = properties;
  }
  if (context !== undefined) {
    if (!isKnownGoodContext(context)) return undefined;
    parsed.context = context;
  }
  return parsed;
}

/** The schema's text fields (`storableText`): min..max UTF-16 units that PostgreSQL can store. */
const storableText = (schema: Parameters<typeof boundedText>[0]) => boundedText(schema, { storable: true });

const TOP_LEVEL_KEYS = new Set(Object.keys(IngestEvent.shape));
const EVENT = storableText(IngestEvent.shape.event);
const DISTINCT_ID = storableText(IngestEvent.shape.distinct_id);
const EVENT_ID = storableText(IngestEvent.shape.event_id.unwrap());
const SESSION_ID = storableText(IngestEvent.shape.session_id.unwrap());
const USER_AGENT = storableText(EventContext.shape.user_agent.unwrap());
const TIMESTAMP = formatCheck(IngestEvent.shape.timestamp.unwrap());
const IP = EventContext.shape.ip.unwrap();
// The union's first option, IPv4 (formatCheck refuses any other format when this module loads).
const IPV4 = formatCheck(IP.options[0]);
const LIBRARY = EventContext.shape.library.unwrap().shape;
const LIBRARY_NAME = storableText(LIBRARY.name);
const LIBRARY_VERSION = storableText(LIBRARY.version.unwrap());

/** `context` with its validated keys (ip, user_agent, library) valid; its other keys are free-form. */
function isKnownGoodContext(context: unknown): context is NonNullable<IngestEvent['context']> {
  if (!isJsonParsedObject(context)) return false;
  const { ip, user_agent, library } = context;
  if (ip !== undefined && !IPV4(ip) && (typeof ip !== 'string' || !IP.safeParse(ip).success)) return false;
  if (user_agent !== undefined && !USER_AGENT(user_agent)) return false;
  if (library === undefined) return true;
  if (!isJsonParsedObject(library)) return false;
  for (const key in library) if (key !== 'name' && key !== 'version') return false;
  return LIBRARY_NAME(library.name) && (library.version === undefined || LIBRARY_VERSION(library.version));
}
