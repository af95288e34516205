import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths never written to logs: credentials and event payloads. Request logs carry method, url,
 * status and request id only.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-admin-token"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'properties',
  '*.properties',
  'write_key',
  'read_key',
  '*.write_key',
  '*.read_key',
];

/** The one pino logger of a process; components take child loggers from it. */
export function createLogger(options: { level?: string; name?: string } & Pick<LoggerOptions, 'base'> = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    name: options.name,
    base: options.base,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
