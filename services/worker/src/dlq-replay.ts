import type { Redis } from 'ioredis';
import { DLQ_STREAM, streamKey } from '@eap/core';
import { fieldValue } from './stream-entries.ts';
import { throwOnPipelineError } from './dead-letter.ts';

/** One dead-lettered entry as shown by `eap dlq list`. */
export interface DeadLetterView {
  id: string;
  reason: string;
  error: string;
  stream: string;
  original_id: string;
  first_seen: string;
  deliveries: number;
  dead_lettered_at: string;
  /** The original entry's `data` field (the event as JSON), when present. */
  data: string | undefined;
}

const SHARD_KEY = /^eap:events:\{(\d+)\}$/;

function toView(id: string, fields: string[]): DeadLetterView {
  return {
    id,
    reason: fieldValue(fields, 'reason') ?? '',
    error: fieldValue(fields, 'error') ?? '',
    stream: fieldValue(fields, 'stream') ?? '',
    original_id: fieldValue(fields, 'original_id') ?? '',
    first_seen: fieldValue(fields, 'first_seen') ?? '',
    deliveries: Number(fieldValue(fields, 'deliveries') ?? 0),
    dead_lettered_at: fieldValue(fields, 'dead_lettered_at') ?? '',
    data: fieldValue(fields, 'data'),
  };
}

/**
 * Reads and replays the dead-letter stream. Replay appends each chosen entry's original fields
 * (`v`, `data`) back to its shard stream, where workers pick it up again (the primary key makes
 * a replay of something already stored a no-op), and only then deletes it from the DLQ.
 */
export function createDlqTool(redis: Redis, shards: number) {
  async function list(options: { count?: number; reason?: string } = {}): Promise<DeadLetterView[]> {
    const raw = (await redis.xrange(DLQ_STREAM, '-', '+')) as [string, string[]][];
    const views = raw.map(([id, fields]) => toView(id, fields)).filter((v) => !options.reason || v.reason === options.reason);
    return options.count === undefined ? views : views.slice(0, options.count);
  }

  async function count(): Promise<number> {
    return redis.xlen(DLQ_STREAM);
  }

  /** Replays the chosen entries (all, by id, by reason, or the first `count`); returns how many. */
  async function replay(
    options: { ids?: string[]; reason?: string; count?: number } = {},
  ): Promise<{ replayed: number; skipped: string[] }> {
    let chosen = await list({ ...(options.reason ? { reason: options.reason } : {}) });
    if (options.ids) {
      const wanted = new Set(options.ids);
      chosen = chosen.filter((v) => wanted.has(v.id));
    }
    if (options.count !== undefined) chosen = chosen.slice(0, options.count);
    const skipped: string[] = [];
    let replayed = 0;
    for (const view of chosen) {
      const raw = (await redis.xrange(DLQ_STREAM, view.id, view.id)) as [string, string[]][];
      const fields = raw[0]?.[1];
      const version = fields ? fieldValue(fields, 'v') : undefined;
      const match = SHARD_KEY.exec(view.stream);
      const shard = match ? Number(match[1]) : Number.NaN;
      if (!fields || version === undefined || view.data === undefined || !(shard >= 0 && shard < shards)) {
        skipped.push(view.id);
        continue;
      }
      const pipeline = redis.pipeline();
      pipeline.xadd(streamKey(shard), '*', 'v', version, 'data', view.data);
      throwOnPipelineError(await pipeline.exec());
      await redis.xdel(DLQ_STREAM, view.id);
      replayed++;
    }
    return { replayed, skipped };
  }

  return { list, count, replay };
}
