import { z } from 'zod';
import { STREAM_ENTRY_VERSION } from './stream-keys.ts';
import { streamEventFastPath } from './stream-event-fast-path.ts';

/**
 * The event as it travels through Redis Streams (field `data` of each entry, with `v` holding
 * {@link STREAM_ENTRY_VERSION}). The API has already validated and normalized it: ids assigned,
 * skew corrected, times as ISO strings in UTC.
 */
export const StreamEvent = z.object({
  project_id: z.uuid(),
  event_id: z.string().min(1).max(128),
  event: z.string().min(1).max(200),
  distinct_id: z.string().min(1).max(200),
  /** Event time after skew correction and clamping. */
  timestamp: z.iso.datetime({ offset: true }),
  /** The timestamp exactly as the client sent it, when it sent one. */
  client_timestamp: z.string().max(100).nullable(),
  sent_at: z.iso.datetime({ offset: true }).nullable(),
  received_at: z.iso.datetime({ offset: true }),
  session_id: z.string().max(200).nullable(),
  properties: z.record(z.string(), z.unknown()),
  context: z.record(z.string(), z.unknown()).nullable(),
  /** True when the API recognised the sender as a bot; absent (entries of older APIs, or not a bot) means false. */
  is_bot: z.boolean().optional(),
});
export type StreamEvent = z.infer<typeof StreamEvent>;

/** The common entry, accepted without the schema's copy (see stream-event-fast-path.ts). */
export const parseStreamEventFast = streamEventFastPath(StreamEvent);

/** Flat field list for XADD: `v <version> data <json>`. */
export function encodeStreamEntry(json: string): [string, string, string, string] {
  return ['v', String(STREAM_ENTRY_VERSION), 'data', json];
}

/**
 * Largest `data` field accepted: the API never writes more than 32 KiB of properties, 32 KiB of
 * context plus the server's enrichment of it (a user agent of at most 1,000 characters, browser,
 * OS, device, geo) and the bounded fields, so anything bigger did not come from it.
 */
export const MAX_STREAM_ENTRY_BYTES = 80 * 1024;

/** Decodes the fields of one stream entry; throws (ZodError, SyntaxError or Error) on bad data. */
export function decodeStreamEntry(fields: readonly string[]): StreamEvent {
  let version: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'v') version = fields[i + 1];
    else if (fields[i] === 'data') data = fields[i + 1];
  }
  if (version !== String(STREAM_ENTRY_VERSION)) {
    throw new Error(`unsupported stream entry version ${JSON.stringify(version)}`);
  }
  if (data === undefined) throw new Error('stream entry has no data field');
  if (data.length > MAX_STREAM_ENTRY_BYTES)
    throw new Error(`stream entry data is ${data.length} characters; the limit is ${MAX_STREAM_ENTRY_BYTES}`);
  const value: unknown = JSON.parse(data);
  return parseStreamEventFast(value) ?? StreamEvent.parse(value);
}
