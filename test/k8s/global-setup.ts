import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { readToolManifest, type ToolName } from '../../scripts/k8s/tool-manifest.ts';
import { startTestCluster } from './support/cluster.ts';
import { removeOnExit, uninstallCleanupHandlers } from './support/processes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of an admin kubeconfig (client certificate in system:masters) for the test API server. */
    kubeconfig: string;
    /** Names of the kwok-simulated nodes (pods get scheduled and turn Running); empty without kwok. */
    k8sSimulatedNodes: string[];
  }
}

/**
 * Global setup of the `k8s` vitest project: one real API server for the whole run.
 *
 * Starts etcd, kube-apiserver (RBAC) and kube-controller-manager from the binaries built by
 * `make k8s-tools` (scripts/k8s/k8s-tools.ts), on free loopback ports with data, certificates
 * and logs in a temp folder, and provides the admin kubeconfig's path as `kubeconfig`
 * (`inject('kubeconfig')`). Without a kubelet, pods stay Pending; with EAP_K8S_NODES=kwok (built by
 * `node scripts/k8s/k8s-tools.ts kwok`), kube-scheduler and kwok simulate a node so they run.
 * EAP_K8S_KEEP=1 keeps the temp folder (logs) after the run.
 */
export default async function setup(project: TestProject) {
  const begin = Date.now();
  const withKwok = process.env.EAP_K8S_NODES === 'kwok';
  const required: ToolName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager'];
  if (withKwok) required.push('kube-scheduler', 'kwok');
  const { tools, kubernetesVersion } = readToolManifest(required);
  const path = (name: ToolName) => tools[name]?.path ?? '';

  const rootDir = await mkdtemp(join(tmpdir(), 'eap-k8s-'));
  const keep = process.env.EAP_K8S_KEEP === '1';
  const forgetDir = keep ? () => {} : removeOnExit(rootDir);
  const kwokNodes = withKwok ? ['kwok-node-0'] : [];
  const say = (message: string) => console.log(`[k8s] ${message}`);

  const cluster = await startTestCluster({
    rootDir,
    binaries: {
      etcd: path('etcd'),
      kubeApiserver: path('kube-apiserver'),
      kubeControllerManager: path('kube-controller-manager'),
      kubeScheduler: path('kube-scheduler'),
      kwok: path('kwok'),
      kwokStages: tools.kwok?.files?.['stages.yaml'],
    },
    kwokNodes,
  }).catch(async (error: unknown) => {
    if (!keep) await rm(rootDir, { recursive: true, force: true });
    throw error;
  });
  say(
    `Kubernetes ${kubernetesVersion} API server at ${cluster.server} ready in ${((Date.now() - begin) / 1000).toFixed(1)}s` +
      ` (${Object.entries(cluster.timings)
        .map(([what, ms]) => `${what} ${(ms / 1000).toFixed(1)}s`)
        .join(', ')}); kubeconfig ${cluster.kubeconfig}`,
  );

  project.provide('kubeconfig', cluster.kubeconfig);
  project.provide('k8sSimulatedNodes', kwokNodes);

  return async () => {
    await cluster.stop();
    if (keep) say(`kept ${rootDir} (logs in ${cluster.logDir})`);
    else await rm(rootDir, { recursive: true, force: true });
    forgetDir();
    uninstallCleanupHandlers();
  };
}
