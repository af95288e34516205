import { z } from 'zod';
import { STREAM_ENTRY_VERSION } from './stream-keys.ts';

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
});
export type StreamEvent = z.infer<typeof StreamEvent>;

/** Flat field list for XADD: `v <version> data <json>`. */
export function encodeStreamEntry(json: string): [string, string, string, string] {
  return ['v', String(STREAM_ENTRY_VERSION), 'data', json];
}

/** Decodes the fields of one stream entry; throws a ZodError or SyntaxError on bad data. */
export function decodeStreamEntry(fields: string[]): StreamEvent {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const version = map.get('v');
  if (version !== String(STREAM_ENTRY_VERSION)) {
    throw new Error(`unsupported stream entry version ${JSON.stringify(version)}`);
  }
  return StreamEvent.parse(JSON.parse(map.get('data') ?? 'null'));
}
