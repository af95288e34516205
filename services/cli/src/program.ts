import type { CommandGroup } from './command-line.ts';
import { apiCommand } from './commands/api.command.ts';
import { personCommands } from './commands/deletion.command.ts';
import { dlqCommands } from './commands/dlq.command.ts';
import { keyCommands } from './commands/key.command.ts';
import { migrateCommands } from './commands/migrate.command.ts';
import { projectCommands } from './commands/project.command.ts';
import { seedCommand } from './commands/seed.command.ts';
import { workerCommand } from './commands/worker.command.ts';

/** Every `eap` command, as the usage text lists them. */
export const program: CommandGroup = {
  name: '',
  summary: 'self-hosted event analytics pipeline: ingest API → Redis Streams → worker → PostgreSQL',
  details: "Exit codes: 0 done; 1 failed (stderr says why); 2 wrong command line (stderr says what is wrong, then the command's usage).",
  commands: [apiCommand, workerCommand, migrateCommands, projectCommands, personCommands, keyCommands, dlqCommands, seedCommand],
};
