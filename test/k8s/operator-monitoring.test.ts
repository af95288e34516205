/**
 * ServiceMonitors, PrometheusRule and Grafana dashboards: reported as CRDNotInstalled without the
 * Prometheus Operator CRDs (no error loop), created once they are installed (found by the
 * operator's discovery poll without any change to the pipeline, no restart), deleted when turned off.
 */
import { childNames } from '@eap/manifests';
import { CustomObjectsApi, type V1ConfigMap, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, type KubeObject, type KubeRef, statusOf, TestKube } from './support/kube-client.ts';
import { prometheusOperatorCrds } from './support/monitoring-crds.ts';
import {
  pipelineManifest,
  pipelineRef,
  waitForCondition,
  type OperatorNamespace,
  setUpOperatorNamespace,
} from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
const MONITORING = { group: 'monitoring.coreos.com', version: 'v1' };
const monitoring = (kind: 'ServiceMonitor' | 'PrometheusRule', name: string): KubeRef => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind,
  name,
  namespace,
});
const crdRef = (name: string): KubeRef => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
const NAME = 'observed';
const names = childNames({ metadata: { name: NAME } });

let namespace: string;
let setup: OperatorNamespace;
let operator: Operator;
let reconcilesBefore = 0;
const reconcileCount = async () => {
  const text = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  return Number(/eap_operator_reconciles_total\{result="success"\} (\d+)/.exec(text)?.[1] ?? 0);
};
const errorCount = async () => {
  const text = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  return Number(/eap_operator_reconciles_total\{result="error"\} (\d+)/.exec(text)?.[1] ?? 0);
};

beforeAll(async () => {
  setup = await setUpOperatorNamespace(kube, 'monitoring');
  namespace = setup.namespace;
  operator = setup.operator as Operator;
});

afterAll(async () => {
  await setup?.tearDown();
  for (const crd of prometheusOperatorCrds()) await kube.delete(crdRef(crd.metadata.name));
});

describe('monitoring objects', () => {
  it('reports CRDNotInstalled without the Prometheus Operator CRDs, and does not loop on it', async () => {
    // Discovery of the group version (GET /apis/monitoring.coreos.com/v1).
    const discovery = await statusOf(kube.typed(CustomObjectsApi).getAPIResources(MONITORING));
    expect(discovery, 'this file installs the Prometheus Operator CRDs itself; they must not exist yet').toBe(404);
    await kube.create(pipelineManifest(namespace, NAME, { monitoring: { grafanaDashboards: { enabled: true } } }));
    const condition = await waitForCondition(kube, namespace, NAME, 'ServiceMonitorReady', 'False', 'CRDNotInstalled');
    expect(condition.message).toContain('monitoring.coreos.com/v1');
    expect(await errorCount()).toBe(0);
    // Dashboards need no CRD: one ConfigMap each, labelled for the Grafana sidecar.
    for (const id of ['pipeline-health', 'product-overview']) {
      const configMap = await eventually(`dashboard ${id}`, () =>
        kube.find<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', name: names.dashboard(id), namespace }),
      );
      expect(configMap.metadata?.labels?.grafana_dashboard).toBe('1');
      expect(JSON.parse(configMap.data?.[`eap-${id}.json`] ?? '{}').panels.length).toBeGreaterThan(0);
    }
    reconcilesBefore = await reconcileCount();
  });

  it('creates ServiceMonitors and the PrometheusRule once the CRDs are installed', async () => {
    // A rejected apply rejects the promise: the test ends there.
    for (const crd of prometheusOperatorCrds()) await kube.apply(crd, 'eap-tests', true);
    await eventually('monitoring.coreos.com/v1 to be served', async () =>
      (await statusOf(kube.typed(CustomObjectsApi).listClusterCustomObject({ ...MONITORING, plural: 'servicemonitors' }))) === 200
        ? true
        : undefined,
    );
    // Nothing about the pipeline changes: the operator's discovery poll (every 10 s by default,
    // the resync period is 5 min) notices the new kinds and reconciles the idle pipeline.
    const installed = Date.now();
    await waitForCondition(kube, namespace, NAME, 'ServiceMonitorReady', 'True', 'Created');
    console.log(`ServiceMonitorReady=True ${((Date.now() - installed) / 1000).toFixed(1)} s after the CRDs were served`);
    for (const name of [names.api, names.worker]) {
      const monitor = await kube.get<
        KubeObject & { spec: { endpoints: Array<{ port: string; interval: string }>; selector: { matchLabels: Record<string, string> } } }
      >(monitoring('ServiceMonitor', name));
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', interval: '30s', path: '/metrics' })]);
      // Only the admin-port Service of the component matches: never the public API Service.
      const services = await kube.list<V1Service>('v1', 'Service', namespace);
      const selected = services.filter((service) =>
        Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => service.metadata?.labels?.[key] === value),
      );
      expect(selected.map((service) => service.metadata?.name)).toEqual([`${name}-metrics`]);
    }
    const rule = await kube.get<KubeObject & { spec: { groups: Array<{ rules: Array<{ alert: string }> }> } }>(
      monitoring('PrometheusRule', names.prometheusRule),
    );
    expect(rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort()).toEqual([
      'EapApiErrors',
      'EapBacklogGrowing',
      'EapDeadLettersDropped',
      'EapDeadLettersGrowing',
      'EapNoWrites',
    ]);
    expect(await reconcileCount()).toBeGreaterThan(reconcilesBefore);
  });

  it('deletes them when turned off', async () => {
    await kube.mergePatch(pipelineRef(namespace, NAME), {
      spec: {
        monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false }, grafanaDashboards: { enabled: false } },
      },
    });
    await waitForCondition(kube, namespace, NAME, 'ServiceMonitorReady', 'True', 'Disabled');
    await eventually('the monitoring objects to be deleted', async () => {
      const left = await Promise.all([
        kube.find(monitoring('ServiceMonitor', names.api)),
        kube.find(monitoring('ServiceMonitor', names.worker)),
        kube.find(monitoring('PrometheusRule', names.prometheusRule)),
        kube.find({ apiVersion: 'v1', kind: 'ConfigMap', name: names.dashboard('pipeline-health'), namespace }),
      ]);
      return left.every((object) => object === undefined || object.metadata?.deletionTimestamp) ? true : undefined;
    });
  });
});
