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

/** URL env var with one of the given protocols. */
export function urlVar(protocols: string[]) {
  return z.string({ error: 'is required' }).refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
}

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/**
 * The variables every EAP process reads the same way, defined once so the API, the worker and
 * the CLI cannot disagree (STREAM_SHARDS in particular must match everywhere).
 */
export const SHARED_VARS = {
  /** PostgreSQL connection URL (required). */
  DATABASE_URL: urlVar(['postgres:', 'postgresql:']),
  /** Redis connection URL (required), e.g. redis://127.0.0.1:6379/0. */
  REDIS_URL: urlVar(['redis:', 'rediss:']),
  /** Port for /metrics, /livez and /readyz; keep it off the public network. Default 9464. */
  ADMIN_PORT: intVar(9464, 0, 65535),
  /** Interface the process's ports bind to. Default 0.0.0.0. */
  HOST: z.string().default('0.0.0.0'),
  /** Number of shard streams eap:events:{0..N-1}; the same for the API and the workers. Default 4. */
  STREAM_SHARDS: intVar(4, 1, 1024),
  /** pino log level. Default info. */
  LOG_LEVEL: LogLevel,
};
