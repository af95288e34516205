/** Redis key names shared by the API (producer), the worker (consumer) and operations tools. */

/** Consumer group every worker joins on every shard stream. */
export const CONSUMER_GROUP = 'eap-writers';
/** Dead-letter stream for entries that cannot be stored. */
export const DLQ_STREAM = 'eap:dlq';
/** Version of the stream entry layout written by the producer (field `v`). */
export const STREAM_ENTRY_VERSION = 1;

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

/**
 * Shard of an event: FNV-1a over project and distinct id, so one user's events stay in one shard
 * (and so in order relative to each other).
 */
export function shardFor(projectId: string, distinctId: string, shards: number): number {
  let hash = 0x811c9dc5;
  const s = `${projectId}\u0001${distinctId}`;
  for (let i = 0; i < s.length; i++) {
    hash ^= s.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
