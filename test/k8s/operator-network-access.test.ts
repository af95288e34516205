/**
 * Who can reach a pipeline's pods, against the real API server with the chart's RBAC: the public
 * API Service (even a LoadBalancer) carries only the ingest port, the admin port (/metrics) has
 * headless Services of its own (an API Service of the earlier layout loses its metrics port on
 * the next reconcile), pods get no ServiceAccount token, and spec.networkPolicy creates, changes
 * and deletes NetworkPolicies.
 */
import { ADMIN_CONTAINER_PORT, API_CONTAINER_PORT, childNames, FIELD_MANAGER, imageReference, migrationJobName } from '@eap/manifests';
import type { V1Deployment, V1Job, V1NetworkPolicy, V1Pod, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, type KubeObject, type KubeRef, refusalOf, TestKube } from './support/kube-client.ts';
import {
  finishMigrationJob,
  type OperatorNamespace,
  pipelineManifest,
  pipelineRef,
  setUpOperatorNamespace,
  startOperatorInProcess,
} from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
const NAME = 'exposed';
const names = childNames({ metadata: { name: NAME } });
const image = { repository: 'registry.example/eap', tag: '1.0.0' };

let namespace: string;
let setup: OperatorNamespace;
let operator: Operator | undefined;
const service = (name: string): KubeRef => ({ apiVersion: 'v1', kind: 'Service', name, namespace });
const policy = (name: string): KubeRef => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name, namespace });
const ports = (object: V1Service) => object.spec?.ports?.map((p) => [p.name, p.port]);

beforeAll(async () => {
  setup = await setUpOperatorNamespace(kube, 'access', { startOperator: false });
  namespace = setup.namespace;
});

afterAll(async () => {
  await operator?.stop();
  await setup?.tearDown();
});

describe('network access to a pipeline', () => {
  it('publishes only the ingest port on a LoadBalancer API Service, also one the earlier layout created with the admin port', async () => {
    const created = await kube.create<KubeObject>(
      pipelineManifest(namespace, NAME, { image, api: { replicas: 1, service: { type: 'LoadBalancer' } } }),
    );
    // The API Service as operators before this layout applied it: `metrics` next to `http`.
    const owner = { apiVersion: 'eap.dev/v1alpha1', kind: 'EventPipeline', name: NAME, uid: created.metadata?.uid ?? '', controller: true };
    // A refused apply rejects: the test ends there.
    await kube.apply<V1Service>(
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

    operator = await startOperatorInProcess(kube.withToken(setup.token), namespace);
    const api = await eventually('the API Service without its metrics port', async () => {
      const current = await kube.find<V1Service>(service(names.api));
      return current && current.spec?.ports?.length === 1 ? current : undefined;
    });
    expect(api.spec?.type).toBe('LoadBalancer');
    expect(ports(api)).toEqual([['http', 8000]]);

    for (const [name, component] of [
      [names.apiMetrics, 'api'],
      [names.workerMetrics, 'worker'],
    ] as const) {
      const metrics = await eventually(`Service ${name}`, () => kube.find<V1Service>(service(name)));
      expect(metrics.spec).toMatchObject({ type: 'ClusterIP', clusterIP: 'None' });
      expect(ports(metrics)).toEqual([['metrics', ADMIN_CONTAINER_PORT]]);
      expect(metrics.metadata?.labels).toMatchObject({ 'app.kubernetes.io/component': component, 'eap.dev/admin-port': 'true' });
    }
  });

  it('gives the migration, API and worker pods no ServiceAccount token', async () => {
    const jobName = migrationJobName(
      { metadata: { name: NAME } },
      imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }),
    );
    const job = await eventually('the migration Job', () =>
      kube.find<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', name: jobName, namespace }),
    );
    expect(job.spec?.template.spec?.automountServiceAccountToken).toBe(false);
    await finishMigrationJob(kube, namespace, jobName, 'Succeeded');
    for (const name of [names.api, names.worker]) {
      const deployment = await eventually(`Deployment ${name}`, () =>
        kube.find<V1Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace }),
      );
      expect(deployment.spec?.template.spec?.automountServiceAccountToken, name).toBe(false);
    }
    // The pods the real ReplicaSet controller made from them.
    const pods = await eventually('API pods', async () => {
      const list = await kube.list<V1Pod>('v1', 'Pod', namespace, `app.kubernetes.io/instance=${NAME},app.kubernetes.io/component=api`);
      return list.length > 0 ? list : undefined;
    });
    for (const pod of pods) expect(pod.spec?.automountServiceAccountToken).toBe(false);
  });

  it('creates no NetworkPolicy by default', async () => {
    // Another reconcile has certainly run since the workloads appeared.
    for (const name of [names.api, names.worker]) expect(await kube.find(policy(name))).toBeUndefined();
  });

  it('lets the admin port be reached only from metricsFrom once spec.networkPolicy is enabled', async () => {
    const prometheus = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    };
    await kube.mergePatch(pipelineRef(namespace, NAME), { spec: { networkPolicy: { enabled: true, metricsFrom: [prometheus] } } });
    // The library's model names an ingress rule's `from` `_from` (a reserved word in its generator).
    const adminRule = { _from: [prometheus], ports: [{ protocol: 'TCP', port: ADMIN_CONTAINER_PORT }] };
    const api = await eventually('the API NetworkPolicy', () => kube.find<V1NetworkPolicy>(policy(names.api)));
    expect(api.spec?.podSelector?.matchLabels).toMatchObject({ 'app.kubernetes.io/instance': NAME, 'app.kubernetes.io/component': 'api' });
    expect(api.spec?.policyTypes).toEqual(['Ingress']);
    expect(api.spec?.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: API_CONTAINER_PORT }] }, adminRule]);
    expect(api.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'EventPipeline', name: NAME });
    const worker = await eventually('the worker NetworkPolicy', () => kube.find<V1NetworkPolicy>(policy(names.worker)));
    expect(worker.spec?.podSelector?.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'worker' });
    expect(worker.spec?.ingress).toEqual([adminRule]);
  });

  it('admits no other pod to the admin port when metricsFrom is empty (a rule without peers would admit all)', async () => {
    await kube.mergePatch(pipelineRef(namespace, NAME), { spec: { networkPolicy: { metricsFrom: [] } } });
    const worker = await eventually('the worker NetworkPolicy without its admin rule', async () => {
      const current = await kube.find<V1NetworkPolicy>(policy(names.worker));
      return current && (current.spec?.ingress ?? []).length === 0 ? current : undefined;
    });
    expect(worker.spec?.policyTypes).toEqual(['Ingress']);
    const api = await kube.get<V1NetworkPolicy>(policy(names.api));
    expect(api.spec?.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: API_CONTAINER_PORT }] }]);
  });

  it('refuses a metricsFrom entry that selects nothing (the CRD rule), with a clear message', async () => {
    const response = await refusalOf(kube.mergePatch(pipelineRef(namespace, NAME), { spec: { networkPolicy: { metricsFrom: [{}] } } }));
    expect(response.code).toBe(422);
    expect(response.message).toContain('a metricsFrom entry needs a namespaceSelector, a podSelector or both');
  });

  it('deletes the NetworkPolicies when turned off', async () => {
    await kube.mergePatch(pipelineRef(namespace, NAME), { spec: { networkPolicy: { enabled: false } } });
    await eventually('the NetworkPolicies to be deleted', async () => {
      const left = await Promise.all([names.api, names.worker].map((name) => kube.find(policy(name))));
      return left.every((current) => current === undefined || current.metadata?.deletionTimestamp) ? true : undefined;
    });
  });
});
