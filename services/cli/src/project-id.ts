import { UsageError } from './usage-error.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A project id given on the command line (`option` names where), lower-cased; a usage error when it is not a UUID. */
export function projectIdArgument(value: string, option: string): string {
  if (!UUID.test(value)) throw new UsageError(`${option} must be a project id (UUID), not "${value}"; see \`eap project list\``);
  return value.toLowerCase();
}
