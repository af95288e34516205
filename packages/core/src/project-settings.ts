import { z } from 'zod';
import { textProblem } from './json-value-check.ts';

/** Most entries of `allowed_origins`; a project with more wants '*'. */
export const MAX_ALLOWED_ORIGINS = 100;

// scheme://host[:port], as browsers send it in `Origin` (no path, no trailing slash).
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@]+$/;

/** An allowed origin as compared with the `Origin` header: lowercase, no trailing slash. */
export function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

const AllowedOrigin = z
  .string()
  .max(300, { error: 'must be at most 300 characters' })
  // Settings are stored as jsonb, which refuses both: say so rather than fail the write.
  .refine((s) => textProblem(s) === undefined, { error: (issue) => textProblem(String(issue.input)) ?? 'invalid text' })
  .transform(normalizeOrigin)
  .refine((s) => s === '*' || ORIGIN.test(s), {
    error: 'must be "*" or an origin such as https://shop.example.com (scheme, host, optional port; no path)',
  });

const fields = {
  allowed_origins: z
    .array(AllowedOrigin, { error: 'must be an array of origins' })
    .max(MAX_ALLOWED_ORIGINS, { error: `must list at most ${MAX_ALLOWED_ORIGINS} origins` })
    .meta({
      description:
        'Browser origins allowed to send events (the `Origin` header). `["*"]` (default): any; `[]`: none (server-side senders, which send no Origin, are always allowed).',
    }),
  store_ip: z.boolean({ error: 'must be true or false' }).meta({
    description: "Store the sender's IP address in `context.ip`. Default false: the address is used for GeoIP, then dropped.",
  }),
  user_agent: z.boolean({ error: 'must be true or false' }).meta({
    description: 'Store the user agent and the browser, OS and device parsed from it. Default true.',
  }),
  geoip: z.boolean({ error: 'must be true or false' }).meta({
    description: "Look the sender's IP address up in the GeoIP database and store `context.geo`. Default true.",
  }),
  bot_filtering: z.boolean({ error: 'must be true or false' }).meta({
    description:
      'Recognise bots and crawlers by their user agent: their events are stored with `is_bot` and `context.bot`, left out of the rollups and of queries unless asked for. Default true.',
  }),
};

export const PROJECT_SETTINGS_DEFAULTS = {
  allowed_origins: ['*'],
  store_ip: false,
  user_agent: true,
  geoip: true,
  bot_filtering: true,
} as const satisfies { [K in keyof typeof fields]: z.output<(typeof fields)[K]> };

/**
 * A project's collection settings (projects.settings), every field with its default. The stored
 * JSON holds only what was changed ('{}': every default).
 */
export const ProjectSettings = z
  .object({
    allowed_origins: fields.allowed_origins.default([...PROJECT_SETTINGS_DEFAULTS.allowed_origins]),
    store_ip: fields.store_ip.default(PROJECT_SETTINGS_DEFAULTS.store_ip),
    user_agent: fields.user_agent.default(PROJECT_SETTINGS_DEFAULTS.user_agent),
    geoip: fields.geoip.default(PROJECT_SETTINGS_DEFAULTS.geoip),
    bot_filtering: fields.bot_filtering.default(PROJECT_SETTINGS_DEFAULTS.bot_filtering),
  })
  .meta({ id: 'ProjectSettings' });
export type ProjectSettings = z.infer<typeof ProjectSettings>;

/** Body of `PATCH /v1/projects/:project_id/settings`: the fields to change, at least one. */
export const ProjectSettingsUpdate = z
  .strictObject({
    allowed_origins: fields.allowed_origins.optional(),
    store_ip: fields.store_ip.optional(),
    user_agent: fields.user_agent.optional(),
    geoip: fields.geoip.optional(),
    bot_filtering: fields.bot_filtering.optional(),
  })
  .refine((update) => Object.keys(update).length > 0, { error: 'must change at least one setting' })
  .meta({ id: 'ProjectSettingsUpdate' });
export type ProjectSettingsUpdate = z.infer<typeof ProjectSettingsUpdate>;

/**
 * The settings a project's stored JSON means. A field that does not parse (written by hand, or by
 * a newer release) takes its default rather than failing every request of the project.
 */
export function readProjectSettings(stored: unknown): ProjectSettings {
  const whole = ProjectSettings.safeParse(stored ?? {});
  if (whole.success) return whole.data;
  const source = stored !== null && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  const settings: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(ProjectSettings.shape)) {
    const one = (field as z.ZodType).safeParse(source[name]);
    settings[name] = one.success ? one.data : (field as z.ZodType).parse(undefined);
  }
  return settings as ProjectSettings;
}

/** Whether a browser `Origin` may send to a project with these settings. */
export function isOriginAllowed(settings: Pick<ProjectSettings, 'allowed_origins'>, origin: string): boolean {
  const allowed = settings.allowed_origins;
  if (allowed.includes('*')) return true;
  return allowed.includes(normalizeOrigin(origin));
}
