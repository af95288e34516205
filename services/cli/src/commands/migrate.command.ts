import { createMigrator, ensureEventPartitions } from '@eap/db';
import { defineCommand, type CommandGroup } from '../command-line.ts';
import { reaching } from '../command-failure.ts';
import { DatabaseConfigSchema } from '../config.ts';
import { loadDatabaseUrl, withPool } from '../database-config.ts';

const DAY = 86_400_000;
/** Daily partitions created ahead by `migrate up`, so a fresh install takes events at once. */
const PARTITIONS_AHEAD_DAYS = 7;

const up = defineCommand({
  name: 'migrate up',
  summary: 'apply pending database migrations',
  details: `Under an advisory lock, so several processes may run it together; then creates the daily event partitions from yesterday to ${PARTITIONS_AHEAD_DAYS} days ahead. Refuses a database migrated by newer code.`,
  options: {},
  environment: DatabaseConfigSchema,
  async run() {
    const migrator = createMigrator(loadDatabaseUrl());
    const ran = await reaching('PostgreSQL', () => migrator.up());
    for (const m of ran) process.stdout.write(`applied ${String(m.version).padStart(4, '0')}_${m.name}\n`);
    const now = Date.now();
    const partitions = await withPool((pool) =>
      ensureEventPartitions(pool, new Date(now - DAY), new Date(now + PARTITIONS_AHEAD_DAYS * DAY)),
    );
    process.stdout.write(
      `${ran.length === 0 ? 'database is up to date' : `${ran.length} migration(s) applied`}; ${partitions} daily event partitions ready\n`,
    );
    return 0;
  },
});

const status = defineCommand({
  name: 'migrate status',
  summary: 'show applied and pending migrations',
  details: 'One line per migration (name, state, time applied), then the number pending.',
  options: {},
  environment: DatabaseConfigSchema,
  async run() {
    const migrator = createMigrator(loadDatabaseUrl());
    const states = await reaching('PostgreSQL', () => migrator.status());
    for (const s of states) {
      process.stdout.write(
        `${String(s.version).padStart(4, '0')}_${s.name}\t${s.state}${s.appliedAt ? `\t${s.appliedAt.toISOString()}` : ''}\n`,
      );
    }
    const pending = states.filter((s) => s.state === 'pending').length;
    process.stdout.write(pending === 0 ? 'up to date\n' : `${pending} pending\n`);
    return 0;
  },
});

/** `eap migrate up|status`. */
export const migrateCommands: CommandGroup = {
  name: 'migrate',
  summary: 'apply or show the database migrations',
  commands: [up, status],
};
