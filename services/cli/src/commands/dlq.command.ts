import { Redis } from 'ioredis';
import { parseEnv } from '@eap/core';
import { createDlqTool, parseDuration } from '@eap/worker';
import { reaching } from '../command-failure.ts';
import { type CommandGroup, defineCommand, positiveInteger } from '../command-line.ts';
import { DlqConfigSchema } from '../config.ts';
import { UsageError } from '../usage-error.ts';

type DlqTool = ReturnType<typeof createDlqTool>;

const STREAM_ID = /^\d+(-\d+)?$/;

/**
 * Runs `fn` with the DLQ tool on a Redis connection that is closed afterwards. One connection
 * attempt: a Redis out of reach is a one-line failure, not endless retries.
 */
async function withDlqTool(fn: (tool: DlqTool) => Promise<number>): Promise<number> {
  const config = parseEnv(DlqConfigSchema, process.env);
  let connectionError: Error | undefined;
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true, retryStrategy: () => null });
  // ioredis rejects connect() with "Connection is closed."; the reason comes as an 'error' event.
  redis.on('error', (error: Error) => (connectionError ??= error));
  try {
    return await reaching('Redis', async () => {
      await redis.connect().catch((error: unknown) => {
        throw connectionError ?? error;
      });
      return fn(createDlqTool(redis, config.STREAM_SHARDS));
    });
  } finally {
    redis.disconnect();
  }
}

function streamIds(ids: string[]): string[] {
  const bad = ids.find((id) => !STREAM_ID.test(id));
  if (bad !== undefined) throw new UsageError(`"${bad}" is not a DLQ entry id (like 1717171717171-0; see \`eap dlq list\`)`);
  return ids;
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

const reason = { type: 'string', value: 'R', description: 'only entries dead-lettered for this reason (e.g. db_rejected)' } as const;

const list = defineCommand({
  name: 'dlq list',
  summary: 'list dead-lettered entries (JSON lines, oldest first)',
  options: { limit: { type: 'string', value: 'N', description: 'at most N entries' }, reason },
  environment: DlqConfigSchema,
  async run({ values }) {
    const limit = values.limit === undefined ? undefined : positiveInteger(values.limit, '--limit');
    return withDlqTool(async (tool) => {
      for (const view of await tool.list({ ...(limit ? { limit } : {}), ...(values.reason ? { reason: values.reason } : {}) })) print(view);
      return 0;
    });
  },
});

const show = defineCommand({
  name: 'dlq show',
  summary: 'one dead-lettered entry with all its fields',
  details: 'Exits 1 when there is no such entry.',
  operands: { name: 'ID', min: 1, max: 1, description: 'the entry id, as `eap dlq list` shows it' },
  options: {},
  environment: DlqConfigSchema,
  async run({ operands }) {
    const [id] = streamIds(operands) as [string];
    return withDlqTool(async (tool) => {
      const entry = await tool.show(id);
      if (!entry) {
        process.stderr.write(`eap: no DLQ entry ${id}\n`);
        return 1;
      }
      process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
      return 0;
    });
  },
});

const count = defineCommand({
  name: 'dlq count',
  summary: 'number of dead-lettered entries',
  options: {},
  environment: DlqConfigSchema,
  run: () =>
    withDlqTool(async (tool) => {
      print(await tool.count());
      return 0;
    }),
});

const replay = defineCommand({
  name: 'dlq replay',
  summary: 're-validate entries and send them back to their stream',
  details:
    'Each entry is decoded again; one that decodes is appended to its shard stream, then deleted from the DLQ; one that still does not decode stays there. Prints {"replayed","skipped"}; exits 1 when some were skipped.',
  synopsis: 'ID... | --all [--reason R]',
  operands: { name: 'ID', min: 0, max: Number.POSITIVE_INFINITY, description: 'entries to replay, as `eap dlq list` shows them' },
  options: { all: { type: 'boolean', description: 'every entry, or with --reason every entry of that reason' }, reason },
  environment: DlqConfigSchema,
  async run({ values, operands }) {
    if (operands.length > 0 && (values.all || values.reason !== undefined))
      throw new UsageError('give entry ids or --all [--reason R], not both');
    if (values.reason !== undefined && !values.all) throw new UsageError('--reason goes with --all');
    if (operands.length === 0 && !values.all) throw new UsageError('say what to replay: entry ids, or --all (optionally with --reason R)');
    const selection =
      operands.length > 0 ? { ids: streamIds(operands) } : { all: true, ...(values.reason ? { reason: values.reason } : {}) };
    return withDlqTool(async (tool) => {
      const result = await tool.replay(selection, (done) => process.stderr.write(`replayed ${done} ...\n`));
      print(result);
      return result.skipped.length > 0 ? 1 : 0;
    });
  },
});

const purge = defineCommand({
  name: 'dlq purge',
  summary: 'delete entries dead-lettered before now - DURATION',
  options: {
    'older-than': { type: 'string', required: true, value: 'DURATION', description: 'age such as 30d, 12h, 30m, 10s, 500ms or 2w' },
  },
  environment: DlqConfigSchema,
  async run({ values }) {
    const olderThan = parseDuration(values['older-than']);
    if (olderThan === undefined)
      throw new UsageError(`--older-than must be a duration such as 30d, 12h, 30m, 10s, 500ms or 2w (got "${values['older-than']}")`);
    return withDlqTool(async (tool) => {
      print({ purged: await tool.purge(olderThan) });
      return 0;
    });
  },
});

/** `eap dlq list|show|count|replay|purge`: inspect the dead-letter stream and act on it. */
export const dlqCommands: CommandGroup = {
  name: 'dlq',
  summary: 'inspect the dead-letter stream eap:dlq, replay or purge its entries',
  commands: [list, show, count, replay, purge],
};
