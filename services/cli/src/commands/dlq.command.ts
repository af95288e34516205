import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { intVar, parseEnv, urlVar } from '@eap/core';
import { createDlqTool } from '@eap/worker';
import { z } from 'zod';
import { UsageError } from '../usage-error.ts';

const DlqConfig = z.object({ REDIS_URL: urlVar(['redis:', 'rediss:']), STREAM_SHARDS: intVar(4, 1, 1024) });

const USAGE =
  'usage: eap dlq list [--count N] [--reason R] | eap dlq count | eap dlq replay [--id ID ...] [--reason R] [--count N] [--all]';

/** `eap dlq list|count|replay`: inspect the dead-letter stream and send entries back to be stored. */
export async function dlqCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { count: { type: 'string' }, reason: { type: 'string' }, id: { type: 'string', multiple: true }, all: { type: 'boolean' } },
    strict: true,
  });
  const count = values.count === undefined ? undefined : Number(values.count);
  if (count !== undefined && !(Number.isInteger(count) && count > 0)) throw new UsageError('--count must be a positive integer');
  if (sub !== 'list' && sub !== 'count' && sub !== 'replay') throw new UsageError(USAGE);
  if (sub === 'replay' && !values.all && !values.id && !values.reason && count === undefined) {
    throw new UsageError('say what to replay: --all, --id ID, --reason R or --count N');
  }
  const config = parseEnv(DlqConfig, process.env);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true });
  await redis.connect();
  try {
    const tool = createDlqTool(redis, config.STREAM_SHARDS);
    if (sub === 'count') {
      process.stdout.write(`${await tool.count()}\n`);
    } else if (sub === 'list') {
      for (const view of await tool.list({ ...(count ? { count } : {}), ...(values.reason ? { reason: values.reason } : {}) })) {
        process.stdout.write(`${JSON.stringify(view)}\n`);
      }
    } else {
      const result = await tool.replay({
        ...(values.id ? { ids: values.id } : {}),
        ...(values.reason ? { reason: values.reason } : {}),
        ...(count ? { count } : {}),
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (result.skipped.length > 0) return 1;
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}
