import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@eap/core';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Deployment, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { loadOperatorConfig } from '../../../operator/src/config.ts';
import { createOperator, type Operator } from '../../../operator/src/operator.ts';
import { readToolManifest } from '../../../scripts/k8s/tool-manifest.ts';
import { eventually, type KubeObject, type KubeRef, type TestKube } from './kube-client.ts';

const execFileAsync = promisify(execFile);
const root = new URL('../../../', import.meta.url);
export const rootPath = (relative: string) => new URL(relative, root).pathname;
export const randomSuffix = () => randomBytes(3).toString('hex');

export type Manifest = KubeObject & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
};

/** Names an EventPipeline. */
export const pipelineRef = (namespace: string, name: string): KubeRef => ({
  apiVersion: 'eap.dev/v1alpha1',
  kind: 'EventPipeline',
  name,
  namespace,
});

/** Installs the committed CRD file (as a user would) and waits until it is served. Idempotent. */
export async function installCrd(kube: TestKube): Promise<void> {
  const crd = parseAllDocuments(
    readFileSync(rootPath('charts/eap-operator/crds/eventpipelines.eap.dev.yaml'), 'utf8'),
  )[0]?.toJS() as Manifest;
  await kube.apply(crd);
  const ref = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crd.metadata.name };
  await eventually('the EventPipeline CRD to be established', async () => {
    const current = await kube.get<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(ref);
    return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  });
  // Discovery and the REST mapping follow a moment after Established.
  await eventually('EventPipelines to be served', async () => {
    await kube.list('eap.dev/v1alpha1', 'EventPipeline');
    return true;
  });
}

/** `helm template` of the chart with `--set` values; the rendered objects. */
export async function renderChart(namespace: string, sets: string[] = [], releaseName = 'eap-operator'): Promise<Manifest[]> {
  const { helm } = readToolManifest(['helm']).tools;
  if (!helm) throw new Error('helm is not built: node scripts/k8s/k8s-tools.ts cli');
  const args = ['template', releaseName, rootPath('charts/eap-operator'), '--namespace', namespace, ...sets.flatMap((s) => ['--set', s])];
  const { stdout } = await execFileAsync(helm.path, args, { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** Creates a namespace for the running test; the returned function deletes it. */
export async function createNamespace(kube: TestKube, prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `eap-${prefix}-${randomSuffix()}`;
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return { name, remove: () => kube.delete({ apiVersion: 'v1', kind: 'Namespace', name }) };
}

/**
 * Grants a ServiceAccount of `namespace` exactly the operator's permissions as the Helm chart
 * renders them (its ClusterRole, its leader-election Role in `namespace` and, with
 * `watchNamespace=…` among `chart.sets`, its Role in the watched namespace), and returns a client
 * authenticated with a token of that ServiceAccount. A verb missing from the chart makes the
 * operator fail in the tests that use this client. A `chart.releaseName` of its own gives the
 * test its own ClusterRole (deleted by `cleanup`), for rules that differ from the default ones.
 */
export async function operatorClientWithChartRbac(
  admin: TestKube,
  namespace: string,
  chart: { sets?: string[]; releaseName?: string } = {},
): Promise<{ client: TestKube; token: string; rendered: Manifest[]; cleanup: () => Promise<void> }> {
  const rendered = await renderChart(namespace, chart.sets, chart.releaseName);
  const pick = (kind: string) => rendered.filter((object) => object.kind === kind);
  const clusterRole = pick('ClusterRole')[0] as Manifest;
  const serviceAccount = pick('ServiceAccount')[0] as Manifest;
  const binding = pick('ClusterRoleBinding')[0] as Manifest;
  // Cluster-scoped binding per test namespace (and release), so parallel tests do not share one.
  const bindingName = `${chart.releaseName ? `${chart.releaseName}-` : ''}eap-operator-test-${namespace}`;
  const objects: Manifest[] = [
    clusterRole,
    serviceAccount,
    { ...binding, metadata: { ...binding.metadata, name: bindingName } },
    ...pick('Role'),
    ...pick('RoleBinding'),
  ];
  for (const object of objects) await admin.apply(object);
  const tokenRequest = await admin.typed(CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount.metadata.name,
    namespace,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = tokenRequest.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${serviceAccount.metadata.name}`);
  const client = admin.withToken(token);
  const rbac = 'rbac.authorization.k8s.io/v1';
  return {
    client,
    token,
    rendered,
    cleanup: async () => {
      await admin.delete({ apiVersion: rbac, kind: 'ClusterRoleBinding', name: bindingName });
      if (chart.releaseName) await admin.delete({ apiVersion: rbac, kind: 'ClusterRole', name: clusterRole.metadata.name });
    },
  };
}

/** Writes a kubeconfig that authenticates with `token` (for operator processes). */
export async function writeTokenKubeconfig(admin: TestKube, token: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eap-operator-test-'));
  const file = join(dir, 'kubeconfig');
  const cluster = admin.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority-data': caData } }],
    users: [{ name: 'operator', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'operator' } }],
    'current-context': 'test',
  };
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/**
 * Runs an operator in this process, watching only `namespace`, without leader election (unless
 * `env` says otherwise), on `client`'s KubeConfig.
 */
export async function startOperatorInProcess(client: TestKube, namespace: string, env: Record<string, string> = {}): Promise<Operator> {
  const config = loadOperatorConfig({
    WATCH_NAMESPACE: namespace,
    LEADER_ELECTION: 'false',
    METRICS_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const operator = createOperator({
    config,
    kubeConfig: client.kubeConfig,
    logger: createLogger({ level: config.LOG_LEVEL, name: `eap-operator-${namespace}` }),
  });
  await operator.start();
  return operator;
}

/** Creates the two Secrets an EventPipeline names. */
export async function createUrlSecrets(
  kube: TestKube,
  namespace: string,
  redisUrl = 'redis://127.0.0.1:1',
  databaseUrl = 'postgres://eap@127.0.0.1:1/eap',
) {
  for (const [name, url] of [
    ['eap-redis', redisUrl],
    ['eap-postgres', databaseUrl],
  ] as const) {
    await kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: { url } });
  }
}

/** A minimal valid EventPipeline spec using the Secrets of {@link createUrlSecrets}. */
export function pipelineManifest(namespace: string, name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'eap.dev/v1alpha1',
    kind: 'EventPipeline',
    metadata: { name, namespace },
    spec: { redis: { urlSecretRef: { name: 'eap-redis' } }, postgres: { urlSecretRef: { name: 'eap-postgres' } }, ...spec },
  };
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
export interface PipelineObject extends KubeObject {
  status?: { observedGeneration?: number; conditions?: Condition[]; servingImage?: string; workers?: Record<string, unknown> };
}

/** Waits until the pipeline's condition `type` has `status` (and, if given, `reason`) for its current generation. */
export async function waitForCondition(
  kube: TestKube,
  namespace: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeoutMs = 30_000,
) {
  return eventually(
    `condition ${type}=${status}${reason ? ` (${reason})` : ''} on ${namespace}/${name}`,
    async () => {
      const pipeline = await kube.get<PipelineObject>(pipelineRef(namespace, name));
      const condition = pipeline.status?.conditions?.find((c) => c.type === type);
      const current = pipeline.status?.observedGeneration === pipeline.metadata?.generation;
      return current && condition?.status === status && (reason === undefined || condition.reason === reason) ? condition : undefined;
    },
    timeoutMs,
  );
}

const labelSelector = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * Plays the kubelet for pods matching `labels` (there is no kubelet in the test cluster): sets
 * their status to a terminal phase (Job pods) — the real Job controller then completes or fails
 * the Job — or to Running and Ready (Deployment pods), so the real ReplicaSet and Deployment
 * controllers count them available.
 */
export async function setPodsStatus(
  kube: TestKube,
  namespace: string,
  labels: Record<string, string>,
  outcome: 'Succeeded' | 'Failed' | 'Ready',
): Promise<number> {
  const pods = await kube.list<V1Pod>('v1', 'Pod', namespace, labelSelector(labels));
  const core = kube.typed(CoreV1Api);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  let changed = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const phase = pod.status?.phase;
    if (outcome === 'Ready' ? phase === 'Running' : phase === 'Succeeded' || phase === 'Failed') continue;
    const containers = pod.spec?.containers ?? [];
    const terminated = {
      exitCode: outcome === 'Succeeded' ? 0 : 1,
      reason: outcome === 'Succeeded' ? 'Completed' : 'Error',
      startedAt: now,
      finishedAt: now,
    };
    const status =
      outcome === 'Ready'
        ? {
            phase: 'Running',
            startTime: now,
            conditions: [
              { type: 'Ready', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
            ],
            containerStatuses: containers.map((c) => ({
              name: c.name,
              image: c.image ?? '',
              imageID: '',
              ready: true,
              restartCount: 0,
              started: true,
              state: { running: { startedAt: now } },
            })),
          }
        : {
            phase: outcome,
            startTime: now,
            containerStatuses: containers.map((c) => ({
              name: c.name,
              image: c.image ?? '',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { terminated },
            })),
          };
    await core.patchNamespacedPodStatus(
      { name: pod.metadata?.name ?? '', namespace, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    changed++;
  }
  return changed;
}

/** Completes (or fails) the pipeline's migration Job for `image` by finishing its pod, and waits for the Job controller to agree. */
export async function finishMigrationJob(
  kube: TestKube,
  namespace: string,
  jobName: string,
  outcome: 'Succeeded' | 'Failed',
): Promise<void> {
  await eventually(`Job ${jobName} to be ${outcome === 'Succeeded' ? 'Complete' : 'Failed'}`, async () => {
    await setPodsStatus(kube, namespace, { 'job-name': jobName }, outcome);
    const job = await kube.get<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', name: jobName, namespace });
    const want = outcome === 'Succeeded' ? 'Complete' : 'Failed';
    return job.status?.conditions?.some((c) => c.type === want && c.status === 'True') ? true : undefined;
  });
}

/**
 * Makes the pods of a Deployment Ready until its rollout is complete: every replica updated and
 * available and no old pod left (during a rolling update new pods keep appearing as old ones go).
 */
export async function makeDeploymentAvailable(kube: TestKube, namespace: string, name: string): Promise<void> {
  await eventually(`Deployment ${name} to finish its rollout`, async () => {
    const deployment = await kube.get<V1Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace });
    await setPodsStatus(kube, namespace, deployment.spec?.selector.matchLabels ?? {}, 'Ready');
    const want = deployment.spec?.replicas ?? 1;
    const status = deployment.status ?? {};
    const done =
      (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
      status.updatedReplicas === want &&
      status.availableReplicas === want &&
      status.replicas === want;
    return done ? true : undefined;
  });
}

/** A namespace prepared for operator tests, and how to take it down. */
export interface OperatorNamespace {
  namespace: string;
  /** A ServiceAccount token with exactly the chart's permissions (for operator processes). */
  token: string;
  /** The in-process operator watching the namespace; undefined with `startOperator: false`. */
  operator: Operator | undefined;
  /** Stops the operator, removes the RBAC binding and the namespace. */
  tearDown(): Promise<void>;
}

/**
 * The common start of an operator test file: the CRD, a namespace with the URL Secrets, the
 * chart's RBAC for a ServiceAccount there, and (unless `startOperator` is false) an operator
 * running in this process with that ServiceAccount's token, watching only the namespace.
 */
export async function setUpOperatorNamespace(
  kube: TestKube,
  prefix: string,
  options: { redisUrl?: string; startOperator?: boolean } = {},
): Promise<OperatorNamespace> {
  await installCrd(kube);
  const { name: namespace, remove } = await createNamespace(kube, prefix);
  await createUrlSecrets(kube, namespace, options.redisUrl);
  const rbac = await operatorClientWithChartRbac(kube, namespace);
  const operator = options.startOperator === false ? undefined : await startOperatorInProcess(rbac.client, namespace);
  return {
    namespace,
    token: rbac.token,
    operator,
    async tearDown() {
      await operator?.stop();
      await rbac.cleanup();
      await remove();
    },
  };
}
