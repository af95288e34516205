import { CONSUMER_GROUP } from './stream-keys.ts';

/** One consumer group of a stream, as XINFO GROUPS reports it. */
export interface StreamGroupInfo {
  name: string;
  pending: number;
  lastDeliveredId: string;
  /** Entries never delivered to the group; null when Redis cannot tell (after deletions). */
  lag: number | null;
}

/** Parses an XINFO GROUPS reply (a list of flat `[field, value, …]` arrays). */
export function parseStreamGroups(reply: unknown): StreamGroupInfo[] {
  return (reply as unknown[][]).map((flat) => {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
    const lag = info.get('lag');
    return {
      name: String(info.get('name')),
      pending: Number(info.get('pending') ?? 0),
      lastDeliveredId: String(info.get('last-delivered-id') ?? '0-0'),
      lag: lag === null || lag === undefined ? null : Number(lag),
    };
  });
}

/**
 * Entries of one shard still to be written: the writers' lag (never delivered) plus their pending
 * entries (delivered, not acknowledged). Without that group, or when Redis cannot compute the
 * lag, every entry in the stream counts.
 */
export function shardBacklog(groups: StreamGroupInfo[], length: number): number {
  const writers = groups.find((g) => g.name === CONSUMER_GROUP);
  return writers && writers.lag !== null ? writers.lag + writers.pending : length;
}
