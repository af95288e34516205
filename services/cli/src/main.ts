import { ConfigError } from '@eap/core';
import { MigrationError } from '@eap/db';
import { apiCommand } from './commands/api.command.ts';
import { dlqCommand } from './commands/dlq.command.ts';
import { keyCommand } from './commands/key.command.ts';
import { migrateCommand } from './commands/migrate.command.ts';
import { projectCommand } from './commands/project.command.ts';
import { seedCommand } from './commands/seed.command.ts';
import { workerCommand } from './commands/worker.command.ts';
import { UsageError } from './usage-error.ts';

const HELP = `eap — self-hosted event analytics pipeline

Usage: eap <command> [options]

Commands:
  api                                   run the ingest API (PORT, ADMIN_PORT)
  worker                                run a stream → PostgreSQL worker (ADMIN_PORT)
  migrate up                            apply pending database migrations
  migrate status                        show applied and pending migrations
  project create --name <name>          create a project; prints its keys once (last line: JSON)
  project list                          list projects and their active key prefixes
  key rotate --project <id> --kind <write|read>
                                        issue a new key and revoke the old ones of that kind
  dlq list [--limit N] [--reason R]     show dead-lettered entries (one JSON per line)
  dlq show ID                           one dead-lettered entry with all its fields
  dlq count                             number of dead-lettered entries
  dlq replay ID... | --all [--reason R] re-validate and send entries back to their stream
  dlq purge --older-than DURATION       delete entries dead-lettered before now - DURATION
  seed [--url U] [--projects N] [--users N] [--rate R] [--max-events N] [--keys-file F]
                                        send simulated funnel traffic until Ctrl-C

Environment: DATABASE_URL, REDIS_URL, PORT (8000), ADMIN_PORT (9464), EAP_ADMIN_TOKEN,
STREAM_SHARDS (4) and the limits listed in the README.
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  api: apiCommand,
  worker: workerCommand,
  dlq: dlqCommand,
  seed: seedCommand,
  migrate: migrateCommand,
  project: projectCommand,
  key: keyCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"`);
  return command(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`eap: ${error.message}\n\n${HELP}`);
    process.exitCode = 2;
  } else if (error instanceof ConfigError || error instanceof MigrationError) {
    process.stderr.write(`eap: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`eap: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
