/**
 * A wrong command line (unknown command or option, a missing or malformed value, an extra
 * argument): `eap: <message>` on stderr, then the usage of the command being run, exit code 2.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
