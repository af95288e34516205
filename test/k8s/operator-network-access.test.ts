/**
 * Who can reach a pipeline's pods, against the real API server with the chart's RBAC: the public
 * API Service (even a LoadBalancer) carries only the ingest port, the admin port (/metrics) has
 * headless Services of its own (an API Service of the earlier layout loses its metrics port on
 * the next reconcile), pods get no ServiceAccount token, and spec.networkPolicy creates, changes
 * and deletes NetworkPolicies.
 */
import { ADMIN_CONTAINER_PORT, API_CONTAINER_PORT, childNames, FIELD_MANAGER, imageReference, migrationJobName } from '@eap/manifests';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, KubeClient, type KubeObject } from './support/kube-client.ts';
import {
  EP_PATH,
  finishMigrationJob,
  type OperatorNamespace,
  pipelineManifest,
  setUpOperatorNamespace,
  startOperatorInProcess,
} from './support/operator-harness.ts';

const kube = KubeClient.fromKubeconfig(inject('kubeconfig'));
const NAME = 'exposed';
const names = childNames({ metadata: { name: NAME, namespace: '' } } as never);
const image = { repository: 'registry.example/eap', tag: '1.0.0' };

interface ServiceObject extends KubeObject {
  spec: { type: string; clusterIP?: string; ports: Array<{ name: string; port: number }> };
}
interface PodTemplateOwner extends KubeObject {
  spec: { template: { spec: { automountServiceAccountToken?: boolean } } };
}
interface NetworkPolicyObject extends KubeObject {
  spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress?: unknown[] };
}

let namespace: string;
let setup: OperatorNamespace;
let operator: Operator | undefined;
let operatorClient: KubeClient | undefined;
const servicePath = (name: string) => `/api/v1/namespaces/${namespace}/services/${name}`;
const policyPath = (name: string) => `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/${name}`;

beforeAll(async () => {
  setup = await setUpOperatorNamespace(kube, 'access', { startOperator: false });
  namespace = setup.namespace;
});

afterAll(async () => {
  await operator?.stop();
  operatorClient?.close();
  await setup?.tearDown();
  kube.close();
});

describe('network access to a pipeline', () => {
  it('publishes only the ingest port on a LoadBalancer API Service, also one the earlier layout created with the admin port', async () => {
    const created = await kube.create(
      EP_PATH(namespace),
      pipelineManifest(namespace, NAME, { image, api: { replicas: 1, service: { type: 'LoadBalancer' } } }),
    );
    // The API Service as operators before this layout applied it: `metrics` next to `http`.
    const owner = { apiVersion: 'eap.dev/v1alpha1', kind: 'EventPipeline', name: NAME, uid: created.metadata?.uid, controller: true };
    const earlier = await kube.apply(
      servicePath(names.api),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: names.api, namespace, ownerReferences: [owner] },
        spec: {
          type: 'LoadBalancer',
          selector: { 'app.kubernetes.io/instance': NAME, 'app.kubernetes.io/component': 'api' },
          ports: [
            { name: 'http', port: 8000, targetPort: 'http', protocol: 'TCP' },
            { name: 'metrics', port: ADMIN_CONTAINER_PORT, targetPort: 'metrics', protocol: 'TCP' },
          ],
        },
      },
      FIELD_MANAGER,
      true,
    );
    expect(earlier.status).toBeLessThan(300);

    operatorClient = kube.withToken(setup.token);
    operator = await startOperatorInProcess(operatorClient, namespace);
    const api = await eventually('the API Service without its metrics port', async () => {
      const service = await kube.find<ServiceObject>(servicePath(names.api));
      return service && service.spec.ports.length === 1 ? service : undefined;
    });
    expect(api.spec.type).toBe('LoadBalancer');
    expect(api.spec.ports.map((p) => [p.name, p.port])).toEqual([['http', 8000]]);

    for (const [name, component] of [
      [names.apiMetrics, 'api'],
      [names.workerMetrics, 'worker'],
    ] as const) {
      const metrics = await eventually(`Service ${name}`, () => kube.find<ServiceObject>(servicePath(name)));
      expect(metrics.spec).toMatchObject({ type: 'ClusterIP', clusterIP: 'None' });
      expect(metrics.spec.ports.map((p) => [p.name, p.port])).toEqual([['metrics', ADMIN_CONTAINER_PORT]]);
      expect(metrics.metadata?.labels).toMatchObject({ 'app.kubernetes.io/component': component, 'eap.dev/admin-port': 'true' });
    }
  });

  it('gives the migration, API and worker pods no ServiceAccount token', async () => {
    const jobName = migrationJobName(
      { metadata: { name: NAME, namespace: '' } } as never,
      imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }),
    );
    const job = await eventually('the migration Job', () =>
      kube.find<PodTemplateOwner>(`/apis/batch/v1/namespaces/${namespace}/jobs/${jobName}`),
    );
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(false);
    await finishMigrationJob(kube, namespace, jobName, 'Succeeded');
    for (const name of [names.api, names.worker]) {
      const deployment = await eventually(`Deployment ${name}`, () =>
        kube.find<PodTemplateOwner>(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`),
      );
      expect(deployment.spec.template.spec.automountServiceAccountToken, name).toBe(false);
    }
    // The pods the real ReplicaSet controller made from them.
    const pods = await eventually('API pods', async () => {
      const list = await kube.get<{ items: Array<{ spec: { automountServiceAccountToken?: boolean } }> }>(
        `/api/v1/namespaces/${namespace}/pods`,
        { labelSelector: `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=api` },
      );
      return list.items.length > 0 ? list.items : undefined;
    });
    for (const pod of pods) expect(pod.spec.automountServiceAccountToken).toBe(false);
  });

  it('creates no NetworkPolicy by default', async () => {
    // Another reconcile has certainly run since the workloads appeared.
    for (const name of [names.api, names.worker]) expect(await kube.find(policyPath(name))).toBeUndefined();
  });

  it('lets the admin port be reached only from metricsFrom once spec.networkPolicy is enabled', async () => {
    const prometheus = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    };
    await kube.mergePatch(EP_PATH(namespace, NAME), { spec: { networkPolicy: { enabled: true, metricsFrom: [prometheus] } } });
    const adminRule = { from: [prometheus], ports: [{ protocol: 'TCP', port: ADMIN_CONTAINER_PORT }] };
    const api = await eventually('the API NetworkPolicy', () => kube.find<NetworkPolicyObject>(policyPath(names.api)));
    expect(api.spec.podSelector.matchLabels).toMatchObject({ 'app.kubernetes.io/instance': NAME, 'app.kubernetes.io/component': 'api' });
    expect(api.spec.policyTypes).toEqual(['Ingress']);
    expect(api.spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: API_CONTAINER_PORT }] }, adminRule]);
    expect(api.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'EventPipeline', name: NAME });
    const worker = await eventually('the worker NetworkPolicy', () => kube.find<NetworkPolicyObject>(policyPath(names.worker)));
    expect(worker.spec.podSelector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'worker' });
    expect(worker.spec.ingress).toEqual([adminRule]);
  });

  it('admits no other pod to the admin port when metricsFrom is empty (a rule without peers would admit all)', async () => {
    await kube.mergePatch(EP_PATH(namespace, NAME), { spec: { networkPolicy: { metricsFrom: [] } } });
    const worker = await eventually('the worker NetworkPolicy without its admin rule', async () => {
      const policy = await kube.find<NetworkPolicyObject>(policyPath(names.worker));
      return policy && (policy.spec.ingress ?? []).length === 0 ? policy : undefined;
    });
    expect(worker.spec.policyTypes).toEqual(['Ingress']);
    const api = await kube.get<NetworkPolicyObject>(policyPath(names.api));
    expect(api.spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: API_CONTAINER_PORT }] }]);
  });

  it('refuses a metricsFrom entry that selects nothing (the CRD rule), with a clear message', async () => {
    const response = await kube.request<{ message?: string }>(
      'PATCH',
      EP_PATH(namespace, NAME),
      { spec: { networkPolicy: { metricsFrom: [{}] } } },
      {
        contentType: 'application/merge-patch+json',
      },
    );
    expect(response.status).toBe(422);
    expect(response.body.message).toContain('a metricsFrom entry needs a namespaceSelector, a podSelector or both');
  });

  it('deletes the NetworkPolicies when turned off', async () => {
    await kube.mergePatch(EP_PATH(namespace, NAME), { spec: { networkPolicy: { enabled: false } } });
    await eventually('the NetworkPolicies to be deleted', async () => {
      const left = await Promise.all([names.api, names.worker].map((name) => kube.find(policyPath(name))));
      return left.every((policy) => policy === undefined || policy.metadata?.deletionTimestamp) ? true : undefined;
    });
  });
});
