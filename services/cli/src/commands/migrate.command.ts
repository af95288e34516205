import { createMigrator, ensureEventPartitions } from '@eap/db';
import { loadDatabaseUrl, withPool } from '../database-config.ts';
import { UsageError } from '../usage-error.ts';

const DAY = 86_400_000;
/** Daily partitions created ahead by `migrate up`, so a fresh install takes events at once. */
const PARTITIONS_AHEAD_DAYS = 7;

/** `eap migrate up|status`. */
export async function migrateCommand(args: string[]): Promise<number> {
  const [sub] = args;
  const migrator = createMigrator(loadDatabaseUrl());
  if (sub === 'up') {
    const ran = await migrator.up();
    for (const m of ran) process.stdout.write(`applied ${String(m.version).padStart(4, '0')}_${m.name}\n`);
    const now = Date.now();
    const partitions = await withPool((pool) =>
      ensureEventPartitions(pool, new Date(now - DAY), new Date(now + PARTITIONS_AHEAD_DAYS * DAY)),
    );
    process.stdout.write(
      `${ran.length === 0 ? 'database is up to date' : `${ran.length} migration(s) applied`}; ${partitions} daily event partitions ready\n`,
    );
    return 0;
  }
  if (sub === 'status') {
    const states = await migrator.status();
    for (const s of states) {
      process.stdout.write(
        `${String(s.version).padStart(4, '0')}_${s.name}\t${s.state}${s.appliedAt ? `\t${s.appliedAt.toISOString()}` : ''}\n`,
      );
    }
    const pending = states.filter((s) => s.state === 'pending').length;
    process.stdout.write(pending === 0 ? 'up to date\n' : `${pending} pending\n`);
    return 0;
  }
  throw new UsageError('usage: eap migrate up|status');
}
