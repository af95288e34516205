import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseEnv } from '@eap/core';
import { createDlqTool, parseDuration } from '@eap/worker';
import { DlqConfigSchema } from '../config.ts';
import { UsageError } from '../usage-error.ts';

const USAGE = `usage:
  eap dlq list [--limit N] [--reason R]     one JSON line per entry, oldest first
  eap dlq show ID                           one entry with all its fields
  eap dlq count
  eap dlq replay ID... | --all [--reason R] re-validate, append to the stream, then delete from the DLQ
  eap dlq purge --older-than DURATION       e.g. 7d, 12h, 30m`;

/** `eap dlq list|show|count|replay|purge`: inspect the dead-letter stream and act on it. */
export async function dlqCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { limit: { type: 'string' }, reason: { type: 'string' }, all: { type: 'boolean' }, 'older-than': { type: 'string' } },
    strict: true,
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit must be a positive integer');
  if (sub === 'show' && positionals.length !== 1) throw new UsageError(USAGE);
  if (sub === 'replay' && positionals.length === 0 && !values.all)
    throw new UsageError('say what to replay: entry ids, or --all (optionally with --reason R)');
  const olderThan = values['older-than'] === undefined ? undefined : parseDuration(values['older-than']);
  if (sub === 'purge' && olderThan === undefined) throw new UsageError('purge needs --older-than DURATION (e.g. 7d, 12h, 30m)');
  if (!['list', 'show', 'count', 'replay', 'purge'].includes(sub ?? '')) throw new UsageError(USAGE);

  const config = parseEnv(DlqConfigSchema, process.env);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true });
  await redis.connect();
  try {
    const tool = createDlqTool(redis, config.STREAM_SHARDS);
    const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
    switch (sub) {
      case 'count':
        print(await tool.count());
        return 0;
      case 'list':
        for (const view of await tool.list({ ...(limit ? { limit } : {}), ...(values.reason ? { reason: values.reason } : {}) }))
          print(view);
        return 0;
      case 'show': {
        const entry = await tool.show(positionals[0]!);
        if (!entry) {
          process.stderr.write(`eap: no DLQ entry ${positionals[0]}\n`);
          return 1;
        }
        process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
        return 0;
      }
      case 'replay': {
        const result = await tool.replay(
          positionals.length > 0 ? { ids: positionals } : { all: true, ...(values.reason ? { reason: values.reason } : {}) },
          (done) => process.stderr.write(`replayed ${done} ...\n`),
        );
        print(result);
        return result.skipped.length > 0 ? 1 : 0;
      }
      default:
        print({ purged: await tool.purge(olderThan!) });
        return 0;
    }
  } finally {
    redis.disconnect();
  }
}
