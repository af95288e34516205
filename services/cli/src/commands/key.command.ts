import { rotateKey } from '@eap/db';
import { type CommandGroup, defineCommand } from '../command-line.ts';
import { DatabaseConfigSchema } from '../config.ts';
import { withPool } from '../database-config.ts';
import { projectIdArgument } from '../project-id.ts';
import { UsageError } from '../usage-error.ts';

const rotate = defineCommand({
  name: 'key rotate',
  summary: 'issue a new key and revoke the old ones of that kind',
  details: 'The new key is shown once (last output line: JSON); running APIs stop accepting the old ones within their key cache TTL.',
  options: {
    project: { type: 'string', required: true, value: '<id>', description: 'project id (UUID), as `eap project list` shows it' },
    kind: { type: 'string', default: 'write', value: '<write|read>', description: 'which key: write (ingest) or read (query)' },
  },
  environment: DatabaseConfigSchema,
  async run({ values: { project, kind } }) {
    const projectId = projectIdArgument(project, '--project');
    if (kind !== 'write' && kind !== 'read') throw new UsageError(`--kind must be write or read, not "${kind}"`);
    const result = await withPool((pool) => rotateKey(pool, projectId, kind));
    if (!result) {
      process.stderr.write(`eap: no project ${projectId}\n`);
      return 1;
    }
    process.stdout.write(`revoked ${result.revoked} ${kind} key(s); running APIs stop accepting them within their key cache TTL\n`);
    process.stdout.write(`${JSON.stringify({ project_id: projectId, kind, key: result.key })}\n`);
    return 0;
  },
});

/** `eap key rotate --project ID --kind write|read`. */
export const keyCommands: CommandGroup = {
  name: 'key',
  summary: "manage a project's API keys",
  commands: [rotate],
};
