import type { Redis } from 'ioredis';
import { CONSUMER_GROUP } from '@eap/core';
import { entriesOf, type RawEntries, type StreamEntry } from './stream-entries.ts';

/**
 * Takes over entries that other consumers (crashed or stuck workers) left pending longer than
 * `idleMs`, and reads each one's delivery count. Also keeps this consumer's own pending entries
 * fresh while it retries them, so nobody takes them over during a database outage.
 */
export function createPendingRecovery(options: { redis: Redis; consumer: string; idleMs: number }) {
  const { redis, consumer } = options;

  /** Claims idle entries of one shard (up to `count`), with their delivery counts. */
  async function claimIdle(shard: number, key: string, count: number): Promise<StreamEntry[]> {
    // As bytes, as the worker reads new entries (see stream-consumer.ts).
    const reply = (await redis.callBuffer('XAUTOCLAIM', key, CONSUMER_GROUP, consumer, options.idleMs, '0-0', 'COUNT', count)) as [
      Buffer,
      RawEntries,
      Buffer[]?,
    ];
    const claimed = entriesOf(
      shard,
      key,
      (reply[1] ?? []).filter((e) => e !== null),
      false,
    );
    if (claimed.length === 0) return [];
    const deliveries = await deliveryCounts(
      key,
      claimed.map(({ id }) => id),
    );
    for (const entry of claimed) entry.deliveries = deliveries.get(entry.id) ?? 1;
    return claimed;
  }

  /**
   * Takes back up to `count` of the entries this consumer name already holds (left by a previous
   * run of the same worker, which may have crashed on them) with XCLAIM, which counts a delivery
   * each time: a worker that keeps dying on the same entries brings them to MAX_DELIVERIES and
   * the dead-letter stream, instead of re-reading them forever.
   */
  async function claimOwn(shard: number, key: string, count: number): Promise<StreamEntry[]> {
    const rows = (await redis.xpending(key, CONSUMER_GROUP, '-', '+', count, consumer)) as [string, string, number, number][];
    if (rows.length === 0) return [];
    const reply = (await redis.callBuffer('XCLAIM', key, CONSUMER_GROUP, consumer, 0, ...rows.map(([id]) => id))) as RawEntries;
    const claimed = entriesOf(
      shard,
      key,
      reply.filter((e) => e !== null),
      false,
    );
    const deliveries = new Map(rows.map(([id, , , times]) => [id, Number(times) + 1]));
    for (const entry of claimed) entry.deliveries = deliveries.get(entry.id) ?? 1;
    return claimed;
  }

  async function deliveryCounts(key: string, ids: string[]): Promise<Map<string, number>> {
    const first = ids[0]!;
    const last = ids[ids.length - 1]!;
    const rows = (await redis.xpending(key, CONSUMER_GROUP, first, last, ids.length * 2 + 10, consumer)) as [
      string,
      string,
      number,
      number,
    ][];
    return new Map(rows.map(([id, , , count]) => [id, Number(count)]));
  }

  /**
   * Resets the idle time of entries this consumer holds, without counting a delivery (JUSTID),
   * so other workers do not take over entries that are only waiting for the database.
   */
  async function touch(entries: readonly StreamEntry[]): Promise<void> {
    const byKey = new Map<string, string[]>();
    for (const e of entries) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e.id]);
    for (const [key, ids] of byKey) await redis.xclaim(key, CONSUMER_GROUP, consumer, 0, ...ids, 'JUSTID');
  }

  return { claimIdle, claimOwn, touch };
}
export type PendingRecovery = ReturnType<typeof createPendingRecovery>;
