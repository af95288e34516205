/** Redis key names shared by the API (producer), the worker (consumer) and operations tools. */

/** Consumer group every worker joins on every shard stream. */
export const CONSUMER_GROUP = 'eap-writers';
/** Dead-letter stream for entries that cannot be stored. */
export const DLQ_STREAM = 'eap:dlq';
/**
 * Hash of entries appended and not yet acknowledged, per project id: the API adds what it
 * appends, the worker subtracts what it acknowledges (in the same script as the XACK), so one
 * project's share of the backlog is known without scanning the streams. An entry holds events
 * of one project and shard, so the count is in entries, as the streams' lag is.
 */
export const PROJECT_BACKLOG_KEY = 'eap:backlog:projects';
/**
 * Version of the stream entry layout written by the producer (field `v`). 3: field `n` holds the
 * number of events and `data` holds them one after the other, each on three lines (the event
 * without properties and context as JSON, its properties' JSON, its context's JSON or `null`):
 * the API appends a request's events of a shard as one entry, and a project's single-event
 * requests of one append call as one entry per shard, rather than one per event. 2: one event on
 * those three lines. 1: the whole event as one JSON object. Workers read all three (entries
 * appended before an upgrade, letters replayed from the DLQ).
 */
export const STREAM_ENTRY_VERSION = 3;

/**
 * Key of shard `n`. The `{n}` braces are a Redis Cluster hash tag, so each shard may live on its
 * own cluster node later without renaming anything.
 */
export function streamKey(shard: number): string {
  return `eap:events:{${shard}}`;
}

/** Every shard key for a deployment with `shards` shards. */
export function streamKeys(shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => streamKey(i));
}

const FNV_OFFSET_BASIS = 0x811c9dc5;

/** FNV-1a (32 bits) of `text`'s UTF-16 units, continued from `hash`. */
function fnv1a(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** The hash of the last project's prefix: a request's events are all of one project. */
let lastProject: string | undefined;
let lastProjectHash = 0;

/**
 * Shard of an event: FNV-1a over project and distinct id (`<project>\u0001<distinct id>`), so one
 * user's events stay in one shard (and so in order relative to each other). The project's part
 * of the hash is kept between calls.
 */
export function shardFor(projectId: string, distinctId: string, shards: number): number {
  if (projectId !== lastProject) {
    lastProjectHash = fnv1a(FNV_OFFSET_BASIS, `${projectId}\u0001`);
    lastProject = projectId;
  }
  return (fnv1a(lastProjectHash, distinctId) >>> 0) % shards;
}

/** Milliseconds part of a stream entry id (`<ms>-<seq>`): when Redis appended the entry. */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Compares two stream entry ids numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The smallest id greater than `id`. */
export function nextStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}

const PROJECT_OF_ENTRY = /^\{"project_id":"([0-9a-f-]{36})"/;
/** What PROJECT_OF_ENTRY reads: `{"project_id":"`, 36 characters and a quote. */
const PROJECT_PREFIX_CHARS = 52;

/**
 * Project of a stream entry's `data`, read from its first field (the producer writes
 * `project_id` first) without parsing the rest; undefined for data not written that way. Every
 * event of an entry has the project of the request that carried it.
 */
export function entryProjectId(data: string | Buffer | undefined): string | undefined {
  if (data === undefined) return undefined;
  return PROJECT_OF_ENTRY.exec(typeof data === 'string' ? data : data.toString('latin1', 0, PROJECT_PREFIX_CHARS))?.[1];
}
