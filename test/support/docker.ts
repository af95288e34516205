/**
 * What the container tests share: the images `make images` chose (.eap/images.env), the
 * testcontainers settings for engines without the reaper, a label on everything a test run
 * starts, and the removal of what an interrupted run left behind.
 */
import { fileURLToPath } from 'node:url';
import { describeCommandFailure, isPidGone, runCommand } from '@eap/local-services';
import { IMAGES_ENV_FILE, readImagesEnv } from '../../scripts/containers/images.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Label on every container a test run starts; its value is the pid of the vitest process. */
export const TEST_RUN_LABEL = 'dev.eap.test-run';
/** Compose projects started by tests are named `eap-test-<pid>-<suffix>`. */
export const TEST_PROJECT_PREFIX = 'eap-test-';

/** The base images of this machine (`make images` writes them): NODE_IMAGE, REDIS_IMAGE, ... */
export function imagesEnv(): Record<string, string> {
  const images = readImagesEnv();
  if (Object.keys(images).length === 0) throw new Error(`${IMAGES_ENV_FILE} is missing: run \`make images\` first (make test does)`);
  return images;
}

export function imageOf(variable: 'NODE_IMAGE' | 'REDIS_IMAGE' | 'POSTGRES_IMAGE' | 'PROMETHEUS_IMAGE'): string {
  const image = imagesEnv()[variable];
  if (!image) throw new Error(`${variable} is not in ${IMAGES_ENV_FILE}: run \`make images\``);
  return image;
}

/**
 * testcontainers without its reaper (the ryuk image cannot be had everywhere; the tests stop
 * what they start, and {@link removeLeftovers} catches what an interrupted run left), and with the
 * engine's published ports on loopback. A value set by the user wins.
 */
export function configureTestcontainers(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

export const testLabels = (): Record<string, string> => ({ [TEST_RUN_LABEL]: String(process.pid) });

/** Runs `docker ...` (with extra environment variables, e.g. for compose files); its stdout. */
export async function docker(args: readonly string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<string> {
  const result = await runCommand('docker', args, { timeoutMs, env: { ...process.env, ...env } });
  if (result.code !== 0) throw new Error(describeCommandFailure(`docker ${args.join(' ')}`, result));
  return result.stdout;
}

/**
 * Removes the containers (with their anonymous volumes) and compose projects of earlier test
 * runs whose vitest process is gone: an interrupted run leaves nothing behind for long.
 */
export async function removeLeftovers(): Promise<void> {
  const lines = (await docker(['ps', '-a', '--format', `{{.ID}} {{.Label "${TEST_RUN_LABEL}"}} {{.Label "com.docker.compose.project"}}`]))
    .trim()
    .split('\n')
    .filter(Boolean);
  const containers: string[] = [];
  const projects = new Set<string>();
  for (const line of lines) {
    const [id, owner, project] = line.split(' ');
    if (owner && /^\d+$/.test(owner) && isPidGone(Number(owner))) containers.push(id as string);
    const projectOwner = project?.startsWith(TEST_PROJECT_PREFIX)
      ? /^(\d+)-/.exec(project.slice(TEST_PROJECT_PREFIX.length))?.[1]
      : undefined;
    if (project && projectOwner && isPidGone(Number(projectOwner))) projects.add(project);
  }
  for (const project of projects) {
    await docker(['compose', '-p', project, 'down', '--volumes', '--remove-orphans', '--timeout', '1'], 180_000);
  }
  if (containers.length > 0) await docker(['rm', '--force', '--volumes', ...containers]);
}
