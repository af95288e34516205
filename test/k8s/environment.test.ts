/**
 * Smoke tests of the Kubernetes test environment itself (test/k8s/global-setup.ts): a real
 * kube-apiserver with RBAC, etcd and kube-controller-manager. Each test works in its own
 * namespace (deleted at its end) and talks to the API through @kubernetes/client-node, the
 * operator's library (support/kube-client.ts).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { readToolManifest } from '../../scripts/k8s/tool-manifest.ts';
import { VERSIONS } from '../../scripts/k8s/versions.ts';
import {
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1ConfigMap,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1Job,
  type V1Pod,
  type V1ReplicaSet,
  VersionApi,
} from '@kubernetes/client-node';
import { eventually, type KubeRef, refusalOf, statusOf, TestKube } from './support/kube-client.ts';

const kubeconfig = inject('kubeconfig');
const kube = TestKube.fromKubeconfig(kubeconfig);
// kubectl and helm are built by `node scripts/k8s/k8s-tools.ts cli` (make k8s-tools), not by `core`.
const { kubectl, helm } = readToolManifest([]).tools;
const execFileAsync = promisify(execFile);
const simulatedNodes = inject('k8sSimulatedNodes');

const randomSuffix = () => randomBytes(3).toString('hex');

/** Creates a namespace for the running test; it is deleted when the test finishes (pass or fail). */
async function testNamespace(prefix: string): Promise<string> {
  const name = `eap-${prefix}-${randomSuffix()}`;
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  onTestFinished(() => kube.delete({ apiVersion: 'v1', kind: 'Namespace', name }));
  return name;
}

const ownedBy = (object: KubernetesObject, owner: KubernetesObject) =>
  object.metadata?.ownerReferences?.some((ref) => ref.uid === owner.metadata?.uid && ref.controller === true) ?? false;

describe('Kubernetes test environment', () => {
  it('serves the pinned Kubernetes version with RBAC on', async () => {
    const version = await kube.typed(VersionApi).getCode();
    expect(version.gitVersion).toBe(VERSIONS.kubernetes);
    const rbac = await kube.typed(RbacAuthorizationV1Api).getAPIResources();
    expect(rbac.groupVersion).toBe('rbac.authorization.k8s.io/v1');
  });

  it('runs kube-controller-manager: a Deployment gets a ReplicaSet and Pods, and garbage collection removes them', async () => {
    const ns = await testNamespace('deploy');
    const labels = { app: 'web' };
    const deployment = await kube.create<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] },
        },
      },
    });

    const replicaSet = await eventually('the Deployment controller to create a ReplicaSet', async () => {
      const list = await kube.list<V1ReplicaSet>('apps/v1', 'ReplicaSet', ns);
      return list.find((item) => ownedBy(item, deployment));
    });
    expect(replicaSet.spec?.replicas).toBe(2);

    const pods = await eventually('the ReplicaSet controller to create 2 Pods', async () => {
      const list = await kube.list<V1Pod>('v1', 'Pod', ns);
      const owned = list.filter((pod) => ownedBy(pod, replicaSet));
      return owned.length === 2 ? owned : undefined;
    });
    if (simulatedNodes.length === 0) {
      // No kubelet and no scheduler: the pods exist but stay Pending.
      expect(pods.map((pod) => pod.status?.phase)).toEqual(['Pending', 'Pending']);
    } else {
      await eventually('the Pods to run on a kwok node', async () => {
        const list = await kube.list<V1Pod>('v1', 'Pod', ns);
        return list.filter((pod) => pod.status?.phase === 'Running').length === 2 ? true : undefined;
      });
    }

    // Background deletion: the garbage collector removes the ReplicaSet and its Pods.
    await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns }, { propagationPolicy: 'Background' });
    await eventually('the garbage collector to delete the ReplicaSet and Pods', async () => {
      const [replicaSets, podList] = await Promise.all([kube.list('apps/v1', 'ReplicaSet', ns), kube.list('v1', 'Pod', ns)]);
      return replicaSets.length === 0 && podList.length === 0 ? true : undefined;
    });
  });

  it('enforces CRD structural schemas with CEL validation rules (x-kubernetes-validations)', async () => {
    const ns = await testNamespace('crd');
    const group = `t${randomSuffix()}.eap.test`;
    const crdName = `autoscalers.${group}`;
    const message = 'minReplicas must not exceed maxReplicas';
    // Plain JSON, sent as written (TestKube.create).
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'autoscalers', singular: 'autoscaler', kind: 'Autoscaler', listKind: 'AutoscalerList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['minReplicas', 'maxReplicas'],
                    properties: {
                      minReplicas: { type: 'integer', minimum: 0 },
                      maxReplicas: { type: 'integer', minimum: 0 },
                    },
                    'x-kubernetes-validations': [{ rule: 'self.minReplicas <= self.maxReplicas', message }],
                  },
                },
              },
            },
          },
        ],
      },
    };
    await kube.create(crd);
    const crdRef: KubeRef = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crdName };
    onTestFinished(() => kube.delete(crdRef));
    await eventually('the CRD to be Established', async () => {
      const current = await kube.get<V1CustomResourceDefinition>(crdRef);
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });

    // The custom objects client requests the resource's own path (no discovery first), and tells the HTTP status.
    const custom = kube.typed(CustomObjectsApi);
    const autoscalers = { group, version: 'v1', namespace: ns, plural: 'autoscalers' };
    const create = (name: string, minReplicas: number, maxReplicas: number) =>
      custom.createNamespacedCustomObjectWithHttpInfo({
        ...autoscalers,
        body: { apiVersion: `${group}/v1`, kind: 'Autoscaler', metadata: { name }, spec: { minReplicas, maxReplicas } },
      });

    // The new resource's handler can lag a moment behind Established: retry while it says 404.
    const invalid = await eventually('the custom resource endpoint', async () => {
      const refusal = await refusalOf(create('bad', 5, 2));
      return refusal.code === 404 ? undefined : refusal;
    });
    expect(invalid.code).toBe(422);
    expect(invalid.reason).toBe('Invalid');
    expect(invalid.message).toContain(message);
    expect(invalid.details?.causes?.[0]?.field).toBe('spec');

    // Plain OpenAPI validation still applies next to the CEL rule.
    const negative = await refusalOf(create('negative', -1, 2));
    expect(negative.code).toBe(422);
    expect(negative.message).toContain('spec.minReplicas');

    const valid = await create('good', 2, 5);
    expect(valid.httpStatusCode).toBe(201);
    // Updates are validated too.
    const update = await refusalOf(
      custom.patchNamespacedCustomObject(
        { ...autoscalers, name: 'good', body: { spec: { minReplicas: 9 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(update.code).toBe(422);
    expect(update.message).toContain(message);
  });

  it('reports server-side apply conflicts between field managers (409) and lets --force take ownership', async () => {
    const ns = await testNamespace('ssa');
    const ref: KubeRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: ns };
    const configMap = (mode: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: ns },
      data: { mode },
    });
    // The typed client's apply tells the HTTP status: 201 when it created the object, 200 when it changed it.
    const apply = (mode: string, fieldManager: string, force?: boolean) =>
      kube
        .typed(CoreV1Api)
        .patchNamespacedConfigMapWithHttpInfo(
          { name: 'settings', namespace: ns, body: configMap(mode), fieldManager, force },
          setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
        );

    const created = await apply('fast', 'eap-manager-a');
    expect(created.httpStatusCode).toBe(201);

    const conflict = await refusalOf(apply('safe', 'eap-manager-b'));
    expect(conflict.code).toBe(409);
    expect(conflict.reason).toBe('Conflict');
    expect(conflict.message).toContain('eap-manager-a');
    expect(conflict.details?.causes?.[0]?.field).toBe('.data.mode');
    expect((await kube.get<V1ConfigMap>(ref)).data?.mode).toBe('fast');

    const forced = await apply('safe', 'eap-manager-b', true);
    expect(forced.httpStatusCode).toBe(200);
    expect(forced.data.data?.mode).toBe('safe');
    const managers = (forced.data.metadata?.managedFields ?? []).map((field) => field.manager);
    expect(managers).toContain('eap-manager-b');
    expect(managers).not.toContain('eap-manager-a');
  });

  it('authenticates ServiceAccount tokens from the TokenRequest API and authorizes them with RBAC', async () => {
    const ns = await testNamespace('rbac');
    await kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: ns } });
    // No audiences: the API server's own.
    const tokenRequest = await kube.typed(CoreV1Api).createNamespacedServiceAccountToken({
      name: 'reader',
      namespace: ns,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 600 } },
    });
    const reader = kube.withToken(tokenRequest.status?.token ?? '');
    const user = `system:serviceaccount:${ns}:reader`;

    const review = await reader
      .typed(AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(review.status?.userInfo?.username).toBe(user);

    await kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'visible', namespace: ns }, data: { a: 'b' } });
    const denied = await refusalOf(reader.list('v1', 'ConfigMap', ns));
    expect(denied.code).toBe(403);
    expect(denied.message).toContain(`"${user}" cannot list resource "configmaps"`);

    await kube.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'configmap-reader', namespace: ns },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    });
    await kube.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader-reads-configmaps', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    });
    // The RBAC authorizer sees new bindings through its informers: allow a moment (403 until then).
    const allowed = await eventually('the RoleBinding to take effect', () => reader.list<V1ConfigMap>('v1', 'ConfigMap', ns));
    expect(allowed.map((item) => item.metadata?.name)).toContain('visible');

    // Only the granted verbs: creating is still refused.
    const createDenied = await refusalOf(reader.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: ns } }));
    expect(createDenied.code).toBe(403);
  });
  it.skipIf(simulatedNodes.length === 0)('completes Job pods on kwok-simulated nodes', async () => {
    const ns = await testNamespace('job');
    await kube.create<V1Job>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: ns },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'once', image: 'registry.k8s.io/pause:3.10' }] } },
      },
    });
    await eventually('the Job to complete', async () => {
      const job = await kube.get<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', name: 'once', namespace: ns });
      return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? true : undefined;
    });
  });

  it.skipIf(!kubectl || !helm)('works with the kubectl and helm built by k8s-tools', async () => {
    const ns = await testNamespace('helm');
    const run = async (binary: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
      (await execFileAsync(binary, ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, ...env }, timeout: 60_000 })).stdout;

    expect(await run(kubectl?.path ?? '', ['version', '-o', 'json'])).toContain(`"gitVersion": "${VERSIONS.kubernetes}"`);
    expect((await run(kubectl?.path ?? '', ['auth', 'can-i', 'create', 'deployments', '-n', ns])).trim()).toBe('yes');

    // A minimal chart, installed and uninstalled; helm's own folders go to a temp dir.
    const dir = await mkdtemp(join(tmpdir(), 'eap-helm-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const helmEnv = { HELM_CACHE_HOME: join(dir, 'cache'), HELM_CONFIG_HOME: join(dir, 'config'), HELM_DATA_HOME: join(dir, 'data') };
    await mkdir(join(dir, 'chart', 'templates'), { recursive: true });
    await writeFile(join(dir, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: smoke\nversion: 0.1.0\n');
    await writeFile(
      join(dir, 'chart', 'templates', 'configmap.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n',
    );
    await run(helm?.path ?? '', ['install', 'smoke', join(dir, 'chart'), '--namespace', ns, '--wait', '--timeout', '60s'], helmEnv);
    const settings: KubeRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'smoke-settings', namespace: ns };
    const configMap = await kube.get<V1ConfigMap>(settings);
    expect(configMap.data?.kube).toBe(VERSIONS.kubernetes);
    await run(helm?.path ?? '', ['uninstall', 'smoke', '--namespace', ns, '--wait'], helmEnv);
    expect(await statusOf(kube.get(settings))).toBe(404);
  });
});
