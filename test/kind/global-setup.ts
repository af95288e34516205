import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { toolPath } from '../../scripts/k8s/tool-manifest.ts';
import { REPO_ROOT } from '../support/docker.ts';
import { CLUSTER } from './support/cluster.ts';

/** Runs a make target of the repository, its output on stderr (the README's commands, as written). */
export function make(targets: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['--no-print-directory', ...targets], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 2, 2],
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`make ${targets.join(' ')} failed (exit ${code})`))));
  });
}

function output(command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * The kind cluster of the README's Kubernetes path: `make kind-up kind-load deploy` (the images
 * were built by `make test`). A cluster `eap` that already exists is reused and kept; one created
 * here is deleted afterwards (EAP_KEEP_KIND=1 keeps it for a look around).
 */
export default async function setup(project: TestProject) {
  const node = process.execPath;
  const kind = output(node, ['scripts/containers/kind.ts', 'bin']);
  const existed = output(kind, ['get', 'clusters']).split('\n').includes(CLUSTER);
  const started = Date.now();
  if (!existed) await make(['kind-up']);
  // Everything below talks to this cluster, whatever the user's current kubectl context is.
  const dir = mkdtempSync(join(tmpdir(), 'eap-kind-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const tearDown = async () => {
    rmSync(dir, { recursive: true, force: true });
    if (!existed && process.env.EAP_KEEP_KIND !== '1') await make(['kind-down']);
  };
  try {
    writeFileSync(kubeconfig, output(kind, ['get', 'kubeconfig', '--name', CLUSTER]), { mode: 0o600 });
    await make(['kind-load', 'deploy'], { KUBECONFIG: kubeconfig });
  } catch (error) {
    await tearDown();
    throw error;
  }
  console.error(
    `[kind] cluster ${CLUSTER} ${existed ? 'reused' : 'created'}, demo deployed and Ready in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );

  const address = output('docker', [
    'inspect',
    '--format',
    '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
    `${CLUSTER}-control-plane`,
  ]).split(' ')[0];
  if (!address) throw new Error(`no address for the node container ${CLUSTER}-control-plane`);
  project.provide('kindKubeconfig', kubeconfig);
  project.provide('kindNodeAddress', address);
  project.provide('kindBinary', kind);
  project.provide('kubectl', toolPath('kubectl'));

  return tearDown;
}
