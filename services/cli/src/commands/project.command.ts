import { parseArgs } from 'node:util';
import { createProject, listProjects } from '@eap/db';
import { withPool } from '../database-config.ts';
import { UsageError } from '../usage-error.ts';

/** `eap project create --name N` and `eap project list`. */
export async function projectCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values } = parseArgs({ args: rest, options: { name: { type: 'string' } }, strict: true });
    const name = values.name?.trim();
    if (!name || name.length > 200) throw new UsageError('usage: eap project create --name <name> (1-200 characters)');
    const created = await withPool((pool) => createProject(pool, name));
    process.stdout.write(`created project "${created.name}" (${created.project_id})\n`);
    process.stdout.write('the keys below are shown only now; store them safely\n');
    process.stdout.write(
      `${JSON.stringify({ project_id: created.project_id, write_key: created.write_key, read_key: created.read_key })}\n`,
    );
    return 0;
  }
  if (sub === 'list') {
    const projects = await withPool((pool) => listProjects(pool));
    process.stdout.write(`${JSON.stringify(projects, null, 2)}\n`);
    return 0;
  }
  throw new UsageError('usage: eap project create --name <name> | eap project list');
}
