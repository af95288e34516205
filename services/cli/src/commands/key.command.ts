import { parseArgs } from 'node:util';
import { rotateKey } from '@eap/db';
import { withPool } from '../database-config.ts';
import { UsageError } from '../usage-error.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `eap key rotate --project ID --kind write|read`: new key printed once (last line JSON), old ones revoked. */
export async function keyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'rotate') throw new UsageError('usage: eap key rotate --project <id> --kind <write|read>');
  const { values } = parseArgs({
    args: rest,
    options: { project: { type: 'string' }, kind: { type: 'string', default: 'write' } },
    strict: true,
  });
  const projectId = values.project;
  const kind = values.kind;
  if (!projectId || !UUID.test(projectId)) throw new UsageError('--project must be a project id (UUID); see `eap project list`');
  if (kind !== 'write' && kind !== 'read') throw new UsageError('--kind must be write or read');
  const result = await withPool((pool) => rotateKey(pool, projectId, kind));
  if (!result) {
    process.stderr.write(`eap: no project ${projectId}\n`);
    return 1;
  }
  process.stdout.write(`revoked ${result.revoked} ${kind} key(s); running APIs stop accepting them within their key cache TTL\n`);
  process.stdout.write(`${JSON.stringify({ project_id: projectId, kind, key: result.key })}\n`);
  return 0;
}
