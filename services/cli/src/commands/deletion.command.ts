import { Redis } from 'ioredis';
import { EapError, parseEnv } from '@eap/core';
import {
  createDeadLetterRemoval,
  createPipelineDrain,
  type DeletionOptions,
  type DeletionResult,
  deletePerson,
  deleteProject,
} from '@eap/db';
import { CommandFailure } from '../command-failure.ts';
import { type CommandGroup, defineCommand, positiveInteger } from '../command-line.ts';
import { DeletionConfigSchema } from '../config.ts';
import { withPool } from '../database-config.ts';
import { projectIdArgument } from '../project-id.ts';

function nonNegativeMs(value: string, option: string): number {
  return value.trim() === '0' ? 0 : positiveInteger(value, option);
}

const common = {
  wait: {
    type: 'string',
    default: '60000',
    value: 'MS',
    description: 'longest wait for the workers to write the events already in the streams before deleting',
  },
  'batch-size': { type: 'string', default: '2000', value: 'N', description: 'rows deleted per transaction' },
} as const;

/**
 * Runs a deletion with the options both commands share: batch size, progress on stderr, and,
 * when REDIS_URL is set, the wait for the streams and the removal of the subject's dead letters.
 * Prints the receipt (one JSON line) and returns the exit code.
 */
async function runDeletion(
  values: { wait: string; 'batch-size': string },
  run: (pool: Parameters<Parameters<typeof withPool>[0]>[0], options: DeletionOptions) => Promise<DeletionResult>,
): Promise<number> {
  const config = parseEnv(DeletionConfigSchema, process.env);
  const options: DeletionOptions = {
    batchSize: positiveInteger(values['batch-size'], '--batch-size'),
    onProgress: ({ table, removed }) => void process.stderr.write(`removed ${removed} rows of ${table}\n`),
  };
  const timeoutMs = nonNegativeMs(values.wait, '--wait');
  let redis: Redis | undefined;
  if (config.REDIS_URL !== undefined) {
    redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true, retryStrategy: () => null });
    // A Redis out of reach makes the receipt say the streams were not drained (the reason is in
    // it); the dead letters then cannot be removed, and the command fails after the rows are gone.
    redis.on('error', () => undefined);
    options.waitForPipeline = createPipelineDrain(redis, { shards: config.STREAM_SHARDS, timeoutMs });
    options.removeDeadLetters = createDeadLetterRemoval(redis);
  } else {
    process.stderr.write(
      'REDIS_URL is not set: events still in the streams are not waited for, and letters in the dead-letter stream are not removed\n',
    );
  }
  try {
    const result = await withPool((pool) => run(pool, options));
    if (result.status === 'not_found') {
      process.stderr.write(`eap: ${result.what === 'project' ? 'no such project' : 'nothing known of that distinct id in the project'}\n`);
      return 1;
    }
    if (result.receipt.pipeline && !result.receipt.pipeline.drained) {
      process.stderr.write(
        `events of it may still be in the streams (${result.receipt.pipeline.reason}); run the deletion again once the workers have caught up\n`,
      );
    }
    process.stdout.write(`${JSON.stringify(result.receipt)}\n`);
    return 0;
  } catch (error) {
    // The dead letters could not be removed (Redis failed): say so in one line, exit 1.
    throw error instanceof EapError ? new CommandFailure(error.message) : error;
  } finally {
    redis?.disconnect();
  }
}

const personDelete = defineCommand({
  name: 'person delete',
  summary: 'delete a person: every event and trace of all its distinct ids (prints the receipt, JSON)',
  details:
    'Any distinct id of the person names it; all of its distinct ids go. Waits (up to --wait) for the events already in the streams, so they are deleted too. Exit code 1 when the project or the distinct id is unknown; deleting again prints a receipt with zero counts.',
  options: {
    project: { type: 'string', required: true, value: '<id>', description: 'project id (UUID), as `eap project list` shows it' },
    'distinct-id': { type: 'string', required: true, value: '<id>', description: 'a distinct id of the person' },
    ...common,
  },
  environment: DeletionConfigSchema,
  async run({ values }) {
    const project = projectIdArgument(values.project, '--project');
    return runDeletion(values, (pool, options) => deletePerson(pool, project, values['distinct-id'], options));
  },
});

/** `eap project delete <id>`: listed with the other project commands. */
export const projectDeleteCommand = defineCommand({
  name: 'project delete',
  summary: 'delete a project: revoke its keys, then remove all its data (prints the receipt, JSON)',
  details:
    'Revokes the keys first and waits --key-cache-ttl so running APIs stop accepting them, then waits (up to --wait) for its events already in the streams, then removes every row of the project in small batches. Running it again removes whatever arrived since.',
  operands: { name: '<project-id>', min: 1, max: 1, description: 'project id (UUID)' },
  options: {
    'key-cache-ttl': {
      type: 'string',
      default: '30000',
      value: 'MS',
      description: "the APIs' KEY_CACHE_TTL_MS: how long they may still accept a revoked key",
    },
    ...common,
  },
  environment: DeletionConfigSchema,
  async run({ values, operands }) {
    const project = projectIdArgument(operands[0]!, '<project-id>');
    const settle = nonNegativeMs(values['key-cache-ttl'], '--key-cache-ttl');
    return runDeletion(values, (pool, options) => deleteProject(pool, project, { ...options, revokedKeySettleMs: settle }));
  },
});

/** `eap person delete --project ID --distinct-id ID`. */
export const personCommands: CommandGroup = {
  name: 'person',
  summary: 'delete the data of a person',
  commands: [personDelete],
};
