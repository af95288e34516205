import { ProjectSettingsUpdate } from '@eap/core';
import { findProjectSettings, updateProjectSettings } from '@eap/db';
import { defineCommand } from '../command-line.ts';
import { DatabaseConfigSchema } from '../config.ts';
import { withPool } from '../database-config.ts';
import { UsageError } from '../usage-error.ts';
import { projectIdArgument } from '../project-id.ts';

const SWITCHES = ['store-ip', 'user-agent', 'geoip', 'bot-filtering'] as const;

function trueOrFalse(value: string, option: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--${option} must be true or false (got "${value}")`);
}

const onOff = (what: string) => ({ type: 'string', value: '<true|false>', description: what }) as const;

/** `eap project settings <id> [--allowed-origins a,b] [--store-ip true|false] ...` */
export const projectSettingsCommand = defineCommand({
  name: 'project settings',
  summary: "show or change a project's collection settings",
  details:
    'Without options, prints the settings; with options, changes those and prints them all (JSON). Running APIs apply a change within their key cache TTL (KEY_CACHE_TTL_MS, 30 s by default).',
  operands: { name: '<project-id>', min: 1, max: 1, description: 'project id (UUID), as `eap project list` shows it' },
  options: {
    'allowed-origins': {
      type: 'string',
      value: '<a,b|*|none>',
      description: 'browser origins allowed to send, comma-separated (https://shop.example.com); * any; none: no browser',
    },
    'store-ip': onOff("store the sender's IP address in context.ip"),
    'user-agent': onOff('store the user agent and the browser, OS and device parsed from it'),
    geoip: onOff("store context.geo looked up from the sender's IP address"),
    'bot-filtering': onOff('mark events of bots and crawlers (is_bot, context.bot)'),
  },
  environment: DatabaseConfigSchema,
  async run({ values, operands }) {
    const projectId = projectIdArgument(operands[0]!, '<project-id>');
    const update: Record<string, unknown> = {};
    const origins = values['allowed-origins'];
    if (origins !== undefined) {
      update.allowed_origins =
        origins.trim() === 'none'
          ? []
          : origins
              .split(',')
              .map((o) => o.trim())
              .filter(Boolean);
    }
    for (const option of SWITCHES) {
      const value = values[option];
      if (value !== undefined) update[option.replaceAll('-', '_')] = trueOrFalse(value, option);
    }
    const settings = await withPool(async (pool) => {
      if (Object.keys(update).length === 0) return findProjectSettings(pool, projectId);
      const parsed = ProjectSettingsUpdate.safeParse(update);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'} ${i.message}`).join('; ');
        throw new UsageError(problems);
      }
      return updateProjectSettings(pool, projectId, parsed.data);
    });
    if (!settings) {
      process.stderr.write(`eap: no project ${projectId}\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify({ project_id: projectId, settings })}\n`);
    return 0;
  },
});
