import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEnv } from '@eap/core';
import { createSeeder, type SeedProject } from '@eap/traffic';
import { SeedConfigSchema } from '../config.ts';
import { UsageError } from '../usage-error.ts';

const USAGE = `usage: eap seed [--url URL] [--projects N] [--users N] [--rate EVENTS_PER_S] [--batch N] [--max-events N] [--keys-file PATH] [--key WRITE_KEY ...]
  Sends simulated funnel traffic (page_view → signup → add_to_cart → purchase) until Ctrl-C.
  Projects: --key gives write keys to use; otherwise they are read from --keys-file, or created
  through POST /v1/projects with EAP_ADMIN_TOKEN and saved there.`;

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer\n${USAGE}`);
  return n;
}

async function createProjects(url: string, count: number): Promise<SeedProject[]> {
  const token = parseEnv(SeedConfigSchema, process.env).EAP_ADMIN_TOKEN;
  if (!token) throw new UsageError(`no projects: pass --key, a --keys-file that exists, or set EAP_ADMIN_TOKEN to create them\n${USAGE}`);
  const projects: SeedProject[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/v1/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `seed-${i + 1}` }),
    });
    if (res.status !== 201) throw new Error(`creating a project failed: ${res.status} ${await res.text()}`);
    const created = (await res.json()) as SeedProject;
    projects.push({ project_id: created.project_id, write_key: created.write_key });
  }
  return projects;
}

/** `eap seed`: realistic traffic against a running API, until SIGINT/SIGTERM or --max-events. */
export async function seedCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      projects: { type: 'string' },
      users: { type: 'string' },
      rate: { type: 'string' },
      batch: { type: 'string' },
      'max-events': { type: 'string' },
      'keys-file': { type: 'string' },
      key: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const url = values.url.replace(/\/$/, '');
  let projects: SeedProject[];
  if (values.key?.length) {
    projects = values.key.map((write_key, i) => ({ project_id: `given-${i + 1}`, write_key }));
  } else if (values['keys-file'] && existsSync(values['keys-file'])) {
    projects = JSON.parse(readFileSync(values['keys-file'], 'utf8')) as SeedProject[];
  } else {
    projects = await createProjects(url, positiveInt(values.projects, 'projects', 3));
    if (values['keys-file']) {
      mkdirSync(dirname(values['keys-file']), { recursive: true });
      writeFileSync(values['keys-file'], JSON.stringify(projects, null, 2), { mode: 0o600 });
    }
  }
  const maxEvents = values['max-events'] === undefined ? undefined : positiveInt(values['max-events'], 'max-events', 1);
  const seeder = createSeeder({
    url,
    projects,
    usersPerProject: positiveInt(values.users, 'users', 1000),
    rate: positiveInt(values.rate, 'rate', 50),
    batchSize: positiveInt(values.batch, 'batch', 50),
    ...(maxEvents === undefined ? {} : { maxEvents }),
    onProgress: (s) =>
      process.stderr.write(
        `seed: ${s.accepted} accepted, ${s.rejected} rejected, ${s.refusedRequests} refused requests in ${Math.round(s.elapsedMs / 1000)} s\n`,
      ),
  });
  process.stderr.write(`seed: ${projects.length} project(s) → ${url}; Ctrl-C stops\n`);
  const stop = () => void seeder.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stats = await seeder.start();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  return 0;
}
