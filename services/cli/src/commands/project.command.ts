import { createProject, listProjects } from '@eap/db';
import { type CommandGroup, defineCommand } from '../command-line.ts';
import { DatabaseConfigSchema } from '../config.ts';
import { withPool } from '../database-config.ts';
import { UsageError } from '../usage-error.ts';
import { projectDeleteCommand } from './deletion.command.ts';
import { projectSettingsCommand } from './project-settings.command.ts';

const create = defineCommand({
  name: 'project create',
  summary: 'create a project; prints its keys once (last line: JSON)',
  details: 'The last output line is {"project_id","write_key","read_key"}; the keys are stored hashed and cannot be shown again.',
  options: { name: { type: 'string', required: true, value: '<name>', description: 'project name, 1 to 200 characters' } },
  environment: DatabaseConfigSchema,
  async run({ values }) {
    const name = values.name.trim();
    if (!name || name.length > 200) throw new UsageError('--name must be 1 to 200 characters');
    const created = await withPool((pool) => createProject(pool, name));
    process.stdout.write(`created project "${created.name}" (${created.project_id})\n`);
    process.stdout.write('the keys below are shown only now; store them safely\n');
    process.stdout.write(
      `${JSON.stringify({ project_id: created.project_id, write_key: created.write_key, read_key: created.read_key })}\n`,
    );
    return 0;
  },
});

const list = defineCommand({
  name: 'project list',
  summary: 'list projects and their active key prefixes',
  details: 'Prints a JSON array; keys themselves are never shown.',
  options: {},
  environment: DatabaseConfigSchema,
  async run() {
    const projects = await withPool((pool) => listProjects(pool));
    process.stdout.write(`${JSON.stringify(projects, null, 2)}\n`);
    return 0;
  },
});

/** `eap project create --name N`, `eap project list` and `eap project settings <id>`. */
export const projectCommands: CommandGroup = {
  name: 'project',
  summary: 'create, list and delete projects, show and change their settings',
  commands: [create, list, projectSettingsCommand, projectDeleteCommand],
};
