import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseEnv } from '@eap/core';
import { createSeeder, type SeedProject } from '@eap/traffic';
import { CommandFailure, reaching } from '../command-failure.ts';
import { defineCommand, positiveInteger } from '../command-line.ts';
import { SeedConfigSchema } from '../config.ts';
import { UsageError } from '../usage-error.ts';

async function createProjects(url: string, count: number): Promise<SeedProject[]> {
  const token = parseEnv(SeedConfigSchema, process.env).EAP_ADMIN_TOKEN;
  if (!token) throw new UsageError('no projects: pass --key, a --keys-file that exists, or set EAP_ADMIN_TOKEN to create them');
  const projects: SeedProject[] = [];
  for (let i = 0; i < count; i++) {
    const res = await reaching(`the API at ${url}`, () =>
      fetch(`${url}/v1/projects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `seed-${i + 1}` }),
      }),
    );
    if (res.status !== 201) {
      const body = (await res.text()).replace(/\s+/g, ' ').slice(0, 300);
      throw new CommandFailure(`creating a project through ${url}/v1/projects failed: ${res.status} ${body}`);
    }
    const created = (await res.json()) as SeedProject;
    projects.push({ project_id: created.project_id, write_key: created.write_key });
  }
  return projects;
}

function readKeysFile(path: string): SeedProject[] {
  const text = readFileSync(path, 'utf8');
  let projects: unknown;
  try {
    projects = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`--keys-file ${path} is not JSON: ${(error as Error).message.replace(/\s+/g, ' ')}`);
  }
  const valid = (p: unknown): p is SeedProject =>
    typeof p === 'object' &&
    p !== null &&
    typeof (p as SeedProject).project_id === 'string' &&
    typeof (p as SeedProject).write_key === 'string';
  if (!Array.isArray(projects) || projects.length === 0 || !projects.every(valid))
    throw new CommandFailure(`--keys-file ${path} is not a list of {"project_id","write_key"}, as \`eap seed\` writes it`);
  return projects;
}

/** `eap seed`: realistic traffic against a running API, until SIGINT/SIGTERM or --max-events. */
export const seedCommand = defineCommand({
  name: 'seed',
  summary: 'send simulated traffic to a running API until Ctrl-C',
  details:
    'Simulated users walk the funnel page_view → signup → add_to_cart → purchase. Projects: --key gives write keys to use; otherwise they are read from --keys-file, or created through POST /v1/projects with EAP_ADMIN_TOKEN (and saved to --keys-file when given). Prints its totals as JSON at the end; exits 1 when the API accepted no event.',
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8000', value: 'URL', description: 'the API' },
    projects: { type: 'string', default: '3', value: 'N', description: 'projects to create' },
    users: { type: 'string', default: '1000', value: 'N', description: 'simulated users per project' },
    rate: { type: 'string', default: '50', value: 'EVENTS_PER_S', description: 'events per second' },
    batch: { type: 'string', default: '50', value: 'N', description: 'events per request' },
    'max-events': { type: 'string', value: 'N', description: 'stop after sending N events' },
    'keys-file': { type: 'string', value: 'PATH', description: 'projects to use, or where to save the ones created' },
    key: { type: 'string', multiple: true, value: 'WRITE_KEY', description: 'write key of a project to send to' },
  },
  environment: SeedConfigSchema,
  async run({ values }) {
    if (!URL.canParse(values.url) || !['http:', 'https:'].includes(new URL(values.url).protocol))
      throw new UsageError(`--url must be an http:// or https:// URL (got "${values.url}")`);
    const url = values.url.replace(/\/$/, '');
    const options = {
      usersPerProject: positiveInteger(values.users, '--users'),
      rate: positiveInteger(values.rate, '--rate'),
      batchSize: positiveInteger(values.batch, '--batch'),
      ...(values['max-events'] === undefined ? {} : { maxEvents: positiveInteger(values['max-events'], '--max-events') }),
    };
    const projectCount = positiveInteger(values.projects, '--projects');
    const keysFile = values['keys-file'];
    let projects: SeedProject[];
    if (values.key?.length) {
      projects = values.key.map((write_key, i) => ({ project_id: `given-${i + 1}`, write_key }));
    } else if (keysFile && existsSync(keysFile)) {
      projects = readKeysFile(keysFile);
    } else {
      projects = await createProjects(url, projectCount);
      if (keysFile) {
        mkdirSync(dirname(keysFile), { recursive: true });
        writeFileSync(keysFile, JSON.stringify(projects, null, 2), { mode: 0o600 });
      }
    }
    const seeder = createSeeder({
      url,
      projects,
      ...options,
      onProgress: (s) =>
        process.stderr.write(
          `seed: ${s.accepted} accepted, ${s.rejected} rejected, ${s.refusedRequests} refused and ${s.failedRequests} failed requests in ${Math.round(s.elapsedMs / 1000)} s\n`,
        ),
    });
    process.stderr.write(`seed: ${projects.length} project(s) → ${url}; Ctrl-C stops\n`);
    const stop = () => void seeder.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const stats = await seeder.start();
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    if (stats.accepted === 0 && stats.refusedRequests + stats.failedRequests > 0)
      throw new CommandFailure(
        `${url} accepted no event: ${stats.refusedRequests} request(s) refused (a wrong key?), ${stats.failedRequests} failed (is the API running?)`,
      );
    return 0;
  },
});
