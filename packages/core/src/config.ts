import { z } from 'zod';

/** A config that failed validation; `problems` names every bad variable. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses environment variables with a zod object schema whose keys are the variable names.
 * Every bad variable is reported at once, so one start is enough to fix a config.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(config)';
    const given = env[name];
    const shown =
      given === undefined || given === '' ? 'not set' : /URL|TOKEN|SECRET|PASSWORD/.test(name) ? 'given' : JSON.stringify(given);
    return `${name}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(problems);
}

/** Integer env var in [min, max] with a default. */
export function intVar(defaultValue: number, min: number, max: number) {
  return z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be >= ${min}` })
    .max(max, { error: `must be <= ${max}` })
    .default(defaultValue);
}

/**
 * URL env var with one of the given protocols. The protocols are kept as metadata (`protocols`)
 * so the configuration reference can say what is allowed.
 */
export function urlVar(protocols: string[]) {
  return z
    .string({ error: 'is required' })
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { error: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    )
    .meta({ protocols });
}

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/**
 * The variables every EAP process reads the same way, defined once so the API, the worker and
 * the CLI cannot disagree (STREAM_SHARDS in particular must match everywhere).
 *
 * Every config field carries its documentation as a zod description (`.describe()`); defaults
 * and ranges come from the schema itself. `make docs` turns them into docs/configuration.md.
 */
export const SHARED_VARS = {
  DATABASE_URL: urlVar(['postgres:', 'postgresql:']).describe('PostgreSQL connection URL.'),
  REDIS_URL: urlVar(['redis:', 'rediss:']).describe('Redis connection URL, e.g. `redis://127.0.0.1:6379/0`.'),
  ADMIN_PORT: intVar(9464, 0, 65535).describe('Port for `/metrics`, `/livez` and `/readyz`; keep it off the public network.'),
  HOST: z.string().default('0.0.0.0').describe("Interface the process's ports bind to."),
  STREAM_SHARDS: intVar(4, 1, 1024).describe(
    'Number of shard streams `eap:events:{0..N-1}`; must be the same for the API and every worker.',
  ),
  LOG_LEVEL: LogLevel.describe('pino log level; `debug` logs every request.'),
};

/**
 * The accepted age of an event, read the same way by the API (which refuses older events with a
 * per-event reason) and the worker (which checks again before writing): what the API accepts, the
 * worker stores.
 */
export const EVENT_TIME_VARS = {
  EVENT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(36_500)
    .optional()
    .describe(
      'Keep this many days of events: the worker drops older daily partitions and the API refuses older events; unset keeps everything.',
    ),
  MAX_EVENT_AGE_DAYS: intVar(730, 1, 36_500).describe(
    'Without retention: the API refuses events older than this many days (after clock-skew correction), with a per-event reason.',
  ),
};

/** Oldest accepted event age in days: the retention when set, else `MAX_EVENT_AGE_DAYS`. */
export function maxEventAgeDays(config: { EVENT_RETENTION_DAYS?: number | undefined; MAX_EVENT_AGE_DAYS: number }): number {
  return config.EVENT_RETENTION_DAYS ?? config.MAX_EVENT_AGE_DAYS;
}
