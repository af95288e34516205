/**
 * Smoke tests of the Kubernetes test environment itself (test/k8s/global-setup.ts): a real
 * kube-apiserver with RBAC, etcd and kube-controller-manager. Each test works in its own
 * namespace (deleted at its end) and talks to the API with the small node:https client in
 * support/kube-client.ts (@kubernetes/client-node is not a dependency of this repository).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { readToolManifest } from '../../scripts/k8s/tool-manifest.ts';
import { VERSIONS } from '../../scripts/k8s/versions.ts';
import { eventually, KubeClient, type KubeList, type KubeObject, type KubeStatus } from './support/kube-client.ts';

const kubeconfig = inject('kubeconfig');
const kube = KubeClient.fromKubeconfig(kubeconfig);
// kubectl and helm are built by `node scripts/k8s/k8s-tools.ts cli` (make k8s-tools), not by `core`.
const { kubectl, helm } = readToolManifest([]).tools;
const execFileAsync = promisify(execFile);
const simulatedNodes = inject('k8sSimulatedNodes');
afterAll(() => kube.close());

const randomSuffix = () => randomBytes(3).toString('hex');

/** Creates a namespace for the running test; it is deleted when the test finishes (pass or fail). */
async function testNamespace(prefix: string): Promise<string> {
  const name = `eap-${prefix}-${randomSuffix()}`;
  await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  onTestFinished(() => kube.delete(`/api/v1/namespaces/${name}`));
  return name;
}

const ownedBy = (object: KubeObject, owner: KubeObject) =>
  object.metadata?.ownerReferences?.some((ref) => ref.uid === owner.metadata?.uid && ref.controller === true) ?? false;

interface PodLike extends KubeObject {
  status?: { phase?: string };
}

describe('Kubernetes test environment', () => {
  it('serves the pinned Kubernetes version with RBAC on', async () => {
    const version = await kube.get<{ gitVersion: string }>('/version');
    expect(version.gitVersion).toBe(VERSIONS.kubernetes);
    const rbac = await kube.get<{ groupVersion: string }>('/apis/rbac.authorization.k8s.io/v1');
    expect(rbac.groupVersion).toBe('rbac.authorization.k8s.io/v1');
  });

  it('runs kube-controller-manager: a Deployment gets a ReplicaSet and Pods, and garbage collection removes them', async () => {
    const ns = await testNamespace('deploy');
    const labels = { app: 'web' };
    const deployment = await kube.create(`/apis/apps/v1/namespaces/${ns}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
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
      const list = await kube.get<KubeList>(`/apis/apps/v1/namespaces/${ns}/replicasets`);
      return list.items.find((item) => ownedBy(item, deployment));
    });
    expect((replicaSet.spec as { replicas?: number }).replicas).toBe(2);

    const pods = await eventually('the ReplicaSet controller to create 2 Pods', async () => {
      const list = await kube.get<KubeList<PodLike>>(`/api/v1/namespaces/${ns}/pods`);
      const owned = list.items.filter((pod) => ownedBy(pod, replicaSet));
      return owned.length === 2 ? owned : undefined;
    });
    if (simulatedNodes.length === 0) {
      // No kubelet and no scheduler: the pods exist but stay Pending.
      expect(pods.map((pod) => pod.status?.phase)).toEqual(['Pending', 'Pending']);
    } else {
      await eventually('the Pods to run on a kwok node', async () => {
        const list = await kube.get<KubeList<PodLike>>(`/api/v1/namespaces/${ns}/pods`);
        return list.items.filter((pod) => pod.status?.phase === 'Running').length === 2 ? true : undefined;
      });
    }

    // Background deletion: the garbage collector removes the ReplicaSet and its Pods.
    await kube.delete(`/apis/apps/v1/namespaces/${ns}/deployments/web`, { propagationPolicy: 'Background' });
    await eventually('the garbage collector to delete the ReplicaSet and Pods', async () => {
      const [replicaSets, podList] = await Promise.all([
        kube.get<KubeList>(`/apis/apps/v1/namespaces/${ns}/replicasets`),
        kube.get<KubeList>(`/api/v1/namespaces/${ns}/pods`),
      ]);
      return replicaSets.items.length === 0 && podList.items.length === 0 ? true : undefined;
    });
  });

  it('enforces CRD structural schemas with CEL validation rules (x-kubernetes-validations)', async () => {
    const ns = await testNamespace('crd');
    const group = `t${randomSuffix()}.eap.test`;
    const crdName = `autoscalers.${group}`;
    const message = 'minReplicas must not exceed maxReplicas';
    await kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
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
    });
    onTestFinished(() => kube.delete(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`));
    await eventually('the CRD to be Established', async () => {
      const crd = await kube.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`,
      );
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });

    const collection = `/apis/${group}/v1/namespaces/${ns}/autoscalers`;
    const autoscaler = (name: string, minReplicas: number, maxReplicas: number) => ({
      apiVersion: `${group}/v1`,
      kind: 'Autoscaler',
      metadata: { name },
      spec: { minReplicas, maxReplicas },
    });

    // The new resource's handler can lag a moment behind Established: retry while it says 404.
    const invalid = await eventually('the custom resource endpoint', async () => {
      const response = await kube.request<KubeStatus>('POST', collection, autoscaler('bad', 5, 2));
      return response.status === 404 ? undefined : response;
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.reason).toBe('Invalid');
    expect(invalid.body.message).toContain(message);
    expect(invalid.body.details?.causes?.[0]?.field).toBe('spec');

    // Plain OpenAPI validation still applies next to the CEL rule.
    const negative = await kube.request<KubeStatus>('POST', collection, autoscaler('negative', -1, 2));
    expect(negative.status).toBe(422);
    expect(negative.body.message).toContain('spec.minReplicas');

    const valid = await kube.request<KubeObject>('POST', collection, autoscaler('good', 2, 5));
    expect(valid.status).toBe(201);
    // Updates are validated too.
    const update = await kube.request<KubeStatus>(
      'PATCH',
      `${collection}/good`,
      { spec: { minReplicas: 9 } },
      {
        contentType: 'application/merge-patch+json',
      },
    );
    expect(update.status).toBe(422);
    expect(update.body.message).toContain(message);
  });

  it('reports server-side apply conflicts between field managers (409) and lets --force take ownership', async () => {
    const ns = await testNamespace('ssa');
    const path = `/api/v1/namespaces/${ns}/configmaps/settings`;
    const configMap = (mode: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode } });

    const created = await kube.apply(path, configMap('fast'), 'eap-manager-a');
    expect(created.status).toBe(201);

    const conflict = await kube.apply<KubeStatus>(path, configMap('safe'), 'eap-manager-b');
    expect(conflict.status).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    expect(conflict.body.message).toContain('eap-manager-a');
    expect(conflict.body.details?.causes?.[0]?.field).toBe('.data.mode');
    expect(((await kube.get(path)).data as Record<string, string>).mode).toBe('fast');

    const forced = await kube.apply<KubeObject>(path, configMap('safe'), 'eap-manager-b', true);
    expect(forced.status).toBe(200);
    expect((forced.body.data as Record<string, string>).mode).toBe('safe');
    const managers = (forced.body.metadata?.managedFields ?? []).map((field) => field.manager);
    expect(managers).toContain('eap-manager-b');
    expect(managers).not.toContain('eap-manager-a');
  });

  it('authenticates ServiceAccount tokens from the TokenRequest API and authorizes them with RBAC', async () => {
    const ns = await testNamespace('rbac');
    await kube.create(`/api/v1/namespaces/${ns}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'reader' },
    });
    const tokenRequest = await kube.create<{ status: { token: string } }>(`/api/v1/namespaces/${ns}/serviceaccounts/reader/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600 },
    });
    const reader = kube.withToken(tokenRequest.status.token);
    onTestFinished(() => reader.close());
    const user = `system:serviceaccount:${ns}:reader`;

    const review = await reader.create<{ status: { userInfo: { username: string } } }>(
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      },
    );
    expect(review.status.userInfo.username).toBe(user);

    const configMaps = `/api/v1/namespaces/${ns}/configmaps`;
    await kube.create(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'visible' }, data: { a: 'b' } });
    const denied = await reader.request<KubeStatus>('GET', configMaps);
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain(`"${user}" cannot list resource "configmaps"`);

    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'configmap-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    });
    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader-reads-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    });
    // The RBAC authorizer sees new bindings through its informers: allow a moment.
    const allowed = await eventually('the RoleBinding to take effect', async () => {
      const response = await reader.request<KubeList>('GET', configMaps);
      return response.status === 200 ? response.body : undefined;
    });
    expect(allowed.items.map((item) => item.metadata?.name)).toContain('visible');

    // Only the granted verbs: creating is still refused.
    const createDenied = await reader.request<KubeStatus>('POST', configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x' },
    });
    expect(createDenied.status).toBe(403);
  });

  it.skipIf(simulatedNodes.length === 0)('completes Job pods on kwok-simulated nodes', async () => {
    const ns = await testNamespace('job');
    await kube.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once' },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'once', image: 'registry.k8s.io/pause:3.10' }] } },
      },
    });
    await eventually('the Job to complete', async () => {
      const job = await kube.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        `/apis/batch/v1/namespaces/${ns}/jobs/once`,
      );
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
    const configMap = await kube.get(`/api/v1/namespaces/${ns}/configmaps/smoke-settings`);
    expect((configMap.data as Record<string, string>).kube).toBe(VERSIONS.kubernetes);
    await run(helm?.path ?? '', ['uninstall', 'smoke', '--namespace', ns, '--wait'], helmEnv);
    expect((await kube.request('GET', `/api/v1/namespaces/${ns}/configmaps/smoke-settings`)).status).toBe(404);
  });
});
