/**
 * How the operator finds its cluster, as kubectl does: KUBECONFIG naming two files (one with the
 * cluster and its CA file, one with the user's client certificate and key files and the current
 * context), every path inside relative to its own file's directory, read while the working
 * directory is elsewhere. The operator's loader connects with it, and the real `eap-operator`
 * process starts against it and becomes ready; with no cluster at all it says so in one line.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKubeClients } from '../../operator/src/kube-clients.ts';
import { loadKubeConfig } from '../../operator/src/kube-config-loader.ts';
import { eventually, TestKube } from './support/kube-client.ts';
import { createNamespace, rootPath } from './support/operator-harness.ts';

const adminKubeconfig = inject('kubeconfig');
const kube = TestKube.fromKubeconfig(adminKubeconfig);
/** The test cluster's PKI (support/pki.ts), beside its admin kubeconfig. */
const pki = join(dirname(adminKubeconfig), 'pki');

let dir: string;
let kubeconfigEnv: string;
let namespace: { name: string; remove: () => Promise<void> };

beforeAll(async () => {
  namespace = await createNamespace(kube, 'kubeconfig');
  dir = await mkdtemp(join(tmpdir(), 'eap-split-kubeconfig-'));
  const clusterDir = join(dir, 'cluster');
  const userDir = join(dir, 'user');
  await Promise.all([mkdir(join(clusterDir, 'certs'), { recursive: true }), mkdir(join(userDir, 'credentials'), { recursive: true })]);
  await Promise.all([
    copyFile(join(pki, 'ca.crt'), join(clusterDir, 'certs', 'ca.crt')),
    copyFile(join(pki, 'admin.crt'), join(userDir, 'credentials', 'admin.crt')),
    copyFile(join(pki, 'admin.key'), join(userDir, 'credentials', 'admin.key')),
  ]);
  const server = kube.kubeConfig.getCurrentCluster()?.server;
  await writeFile(
    join(clusterDir, 'config.yaml'),
    `apiVersion: v1
kind: Config
clusters:
  - name: split-cluster
    cluster:
      server: ${server}
      certificate-authority: certs/ca.crt
`,
  );
  await writeFile(
    join(userDir, 'config.yaml'),
    `apiVersion: v1
kind: Config
users:
  - name: split-admin
    user:
      client-certificate: credentials/admin.crt
      client-key: credentials/admin.key
contexts:
  - name: split
    context:
      cluster: split-cluster
      user: split-admin
      namespace: ${namespace.name}
current-context: split
`,
    { mode: 0o600 },
  );
  kubeconfigEnv = [join(clusterDir, 'config.yaml'), join(userDir, 'config.yaml')].join(':');
});

afterAll(async () => {
  await namespace?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `operator/bin/eap-operator.js` in `cwd` with exactly `env` (and PATH). */
function runOperator(cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [rootPath('operator/bin/eap-operator.js')], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('the operator kubeconfig', () => {
  it('loads a kubeconfig split over two KUBECONFIG files with paths relative to each file', async () => {
    // Relative to the working directory (the repository), none of those paths exists.
    expect(process.cwd()).not.toBe(dir);
    const before = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfigEnv;
    let loaded: ReturnType<typeof loadKubeConfig>;
    try {
      loaded = loadKubeConfig();
    } finally {
      if (before === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = before;
    }
    expect(loaded.getCurrentContext()).toBe('split');
    expect(loaded.getCurrentCluster()?.caFile).toBe(join(dir, 'cluster', 'certs', 'ca.crt'));
    expect(loaded.getCurrentUser()?.certFile).toBe(join(dir, 'user', 'credentials', 'admin.crt'));
    const namespaces = await createKubeClients(loaded).core.listNamespace();
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toContain(namespace.name);
  });

  it('runs the eap-operator process with it from another working directory, ready and reconciling', async () => {
    // Port 0 and the port the operator logs: a port picked here could be taken by another test
    // before the operator binds it, and a fetch to whatever answers there could hang.
    const operator = runOperator(tmpdir(), {
      KUBECONFIG: kubeconfigEnv,
      WATCH_NAMESPACE: namespace.name,
      LEADER_ELECTION: 'false',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    try {
      const port = await eventually('the operator to log its port', async () => {
        const line = operator
          .output()
          .split('\n')
          .find((l) => l.includes('serving /metrics, /livez and /readyz'));
        return line === undefined ? undefined : (JSON.parse(line) as { port: number }).port;
      });
      const ready = await eventually(
        'the operator process to be ready',
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
          return response.ok ? ((await response.json()) as { role: string; detail: string }) : undefined;
        },
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${operator.output()}`);
      });
      expect(ready).toEqual({ status: 'ready', role: 'single', leader: true, detail: 'caches synced, reconciling' });
      expect((await fetch(`http://127.0.0.1:${port}/livez`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
      operator.child.kill('SIGTERM');
      expect(await operator.exited).toBe(0);
    } finally {
      operator.child.kill('SIGKILL');
    }
  });

  // Inside a pod the ServiceAccount is a cluster to talk to.
  it.skipIf(existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token'))(
    'exits 1 with one line when there is no cluster to talk to',
    async () => {
      const home = join(dir, 'empty-home');
      await mkdir(home, { recursive: true });
      const operator = runOperator(home, { HOME: home, LEADER_ELECTION: 'false', METRICS_PORT: '0' });
      expect(await operator.exited).toBe(1);
      expect(operator.output()).toBe(
        'eap-operator: cannot connect to Kubernetes: no KUBECONFIG, no ~/.kube/config and not running in a cluster (no ServiceAccount token)\n',
      );
    },
  );
});
