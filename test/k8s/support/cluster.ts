import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Health, type V1Node } from '@kubernetes/client-node';
import { TestKube } from './kube-client.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { generateClusterPki } from './pki.ts';
import { freePorts, type ServerProcess, startServer, waitUntil } from './processes.ts';

export interface ClusterBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  /** Only for simulated nodes. */
  kubeScheduler?: string;
  kwok?: string;
  /** kwok Stage configuration (YAML), only for simulated nodes. */
  kwokStages?: string;
}

export interface TestClusterOptions {
  /** Empty folder for data, certificates, kubeconfigs and logs (the caller removes it). */
  rootDir: string;
  binaries: ClusterBinaries;
  /** Simulated nodes with kwok (needs kube-scheduler and kwok): names of the nodes to create. */
  kwokNodes?: readonly string[];
  log?: (message: string) => void;
}

export interface TestCluster {
  /** Admin kubeconfig (system:masters client certificate). */
  kubeconfig: string;
  server: string;
  /** Milliseconds from the start to each component being ready. */
  timings: Record<string, number>;
  logDir: string;
  /** Stops every server (controllers first, etcd last). Idempotent. */
  stop(): Promise<void>;
}

/** Service IP range of the test cluster. It is only data (allocated ClusterIPs); nothing routes to it. */
const SERVICE_CIDR = '10.0.0.0/24';
const KUBERNETES_SERVICE_IP = '10.0.0.1';

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok ? response.json() : undefined;
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager (and, with `kwokNodes`, kube-scheduler
 * and kwok) on free loopback ports, and waits until they serve: etcd /health, the API server's
 * /readyz, and the controller manager's ServiceAccount controller having made `default/default`.
 */
export async function startTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const log = options.log ?? (() => {});
  const begin = Date.now();
  const timings: Record<string, number> = {};
  const mark = (name: string) => {
    timings[name] = Date.now() - begin;
    log(`${name} after ${(timings[name] / 1000).toFixed(1)}s`);
  };
  const { rootDir, binaries } = options;
  const pkiDir = join(rootDir, 'pki');
  const logDir = join(rootDir, 'logs');
  await Promise.all([mkdir(pkiDir), mkdir(logDir), mkdir(join(rootDir, 'etcd'), { mode: 0o700 })]);

  const servers: ServerProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: controllers and the API server before etcd.
    for (const server of [...servers].reverse()) await server.stop();
  };
  try {
    const [etcdClientPort, etcdPeerPort, apiserverPort] = (await freePorts(3)) as [number, number, number];
    const pki = await generateClusterPki(pkiDir, KUBERNETES_SERVICE_IP);
    mark('certificates generated');

    // --- etcd --------------------------------------------------------------------------------
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startServer(
      'etcd',
      binaries.etcd,
      [
        '--name=eap-test',
        `--data-dir=${join(rootDir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=eap-test=${peerUrl}`,
        '--initial-cluster-state=new',
        // Throwaway data: no fsync makes every write (and so every API call) much faster.
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      join(logDir, 'etcd.log'),
    );
    servers.push(etcd);
    await waitUntil(
      'etcd /health',
      async () => ((await getJson(`${etcdUrl}/health`)) as { health?: string } | undefined)?.health === 'true',
      { timeoutMs: 30_000, intervalMs: 100, server: etcd },
    );
    mark('etcd ready');

    // --- kube-apiserver ----------------------------------------------------------------------
    const server = `https://127.0.0.1:${apiserverPort}`;
    const apiserver = startServer(
      'kube-apiserver',
      binaries.kubeApiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // The 'kubernetes' Service would get 127.0.0.1 as endpoint, which Endpoints validation refuses.
        '--endpoint-reconciler-type=none',
        `--secure-port=${apiserverPort}`,
        `--cert-dir=${pkiDir}`,
        `--tls-cert-file=${pki.apiserverCert}`,
        `--tls-private-key-file=${pki.apiserverKey}`,
        `--client-ca-file=${pki.caCert}`,
        '--authorization-mode=Node,RBAC',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
      ],
      join(logDir, 'kube-apiserver.log'),
    );
    servers.push(apiserver);

    const adminKubeconfig = join(rootDir, 'kubeconfig');
    const controllerManagerKubeconfig = join(rootDir, 'controller-manager.kubeconfig');
    await Promise.all([
      writeKubeconfig(adminKubeconfig, {
        server,
        caFile: pki.caCert,
        certFile: pki.adminCert,
        keyFile: pki.adminKey,
        user: 'eap-test-admin',
      }),
      writeKubeconfig(controllerManagerKubeconfig, {
        server,
        caFile: pki.caCert,
        certFile: pki.controllerManagerCert,
        keyFile: pki.controllerManagerKey,
        user: 'system:kube-controller-manager',
      }),
    ]);
    const admin = TestKube.fromKubeconfig(adminKubeconfig);
    const health = new Health(admin.kubeConfig);
    await waitUntil('kube-apiserver /readyz', () => health.readyz({ signal: AbortSignal.timeout(2000) }), {
      timeoutMs: 90_000,
      intervalMs: 100,
      server: apiserver,
    });
    mark('kube-apiserver ready');

    // --- kube-controller-manager ---------------------------------------------------------------
    const controllerManager = startServer(
      'kube-controller-manager',
      binaries.kubeControllerManager,
      [
        `--kubeconfig=${controllerManagerKubeconfig}`,
        `--authentication-kubeconfig=${controllerManagerKubeconfig}`,
        `--authorization-kubeconfig=${controllerManagerKubeconfig}`,
        '--controllers=*',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        '--leader-elect=false',
        // No HTTPS endpoint of its own: readiness is judged from what it does.
        '--secure-port=0',
        '--profiling=false',
        '--v=1',
      ],
      join(logDir, 'kube-controller-manager.log'),
    );
    servers.push(controllerManager);
    await waitUntil(
      'the ServiceAccount controller to create default/default',
      async () => (await admin.find({ apiVersion: 'v1', kind: 'ServiceAccount', name: 'default', namespace: 'default' })) !== undefined,
      { timeoutMs: 60_000, intervalMs: 200, server: controllerManager },
    );
    mark('kube-controller-manager ready');

    // --- optional: simulated nodes -----------------------------------------------------------
    if (options.kwokNodes && options.kwokNodes.length > 0) {
      await startSimulatedNodes(options, servers, admin, adminKubeconfig, logDir);
      mark(`kwok nodes ready (${options.kwokNodes.join(', ')})`);
    }

    return { kubeconfig: adminKubeconfig, server, timings, logDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startSimulatedNodes(
  options: TestClusterOptions,
  servers: ServerProcess[],
  kube: TestKube,
  kubeconfig: string,
  logDir: string,
): Promise<void> {
  const { kubeScheduler, kwok, kwokStages } = options.binaries;
  if (!kubeScheduler || !kwok || !kwokStages) throw new Error('simulated nodes need kube-scheduler, kwok and its stages');
  servers.push(
    startServer(
      'kube-scheduler',
      kubeScheduler,
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        '--secure-port=0',
      ],
      join(logDir, 'kube-scheduler.log'),
    ),
  );
  const kwokServer = startServer(
    'kwok',
    kwok,
    [
      `--kubeconfig=${kubeconfig}`,
      `--config=${kwokStages}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--node-lease-duration-seconds=40',
      // Only written into the simulated objects' status; nothing is reachable there.
      '--node-ip=10.0.1.1',
      '--cidr=10.0.2.0/24',
      '--server-address=127.0.0.1:0',
    ],
    join(logDir, 'kwok.log'),
  );
  servers.push(kwokServer);
  for (const name of options.kwokNodes ?? []) {
    await kube.create<V1Node>({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
      },
    });
  }
  for (const name of options.kwokNodes ?? []) {
    await waitUntil(
      `simulated node ${name} to be Ready`,
      async () => {
        const node = await kube.get<V1Node>({ apiVersion: 'v1', kind: 'Node', name });
        return node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
      },
      { timeoutMs: 30_000, intervalMs: 200, server: kwokServer },
    );
  }
}
