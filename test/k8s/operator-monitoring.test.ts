/**
 * ServiceMonitors, PrometheusRule and Grafana dashboards: reported as CRDNotInstalled without the
 * Prometheus Operator CRDs (no error loop), created once they are installed (found by the
 * operator's discovery poll without any change to the pipeline, no restart), deleted when turned off.
 */
import { childNames } from '@eap/manifests';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, KubeClient, type KubeObject } from './support/kube-client.ts';
import { prometheusOperatorCrds } from './support/monitoring-crds.ts';
import { EP_PATH, pipelineManifest, waitForCondition, type OperatorNamespace, setUpOperatorNamespace } from './support/operator-harness.ts';

const kube = KubeClient.fromKubeconfig(inject('kubeconfig'));
const NAME = 'observed';
const names = childNames({ metadata: { name: NAME, namespace: '' } } as never);

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
  for (const crd of prometheusOperatorCrds())
    await kube.delete(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
  kube.close();
});

describe('monitoring objects', () => {
  it('reports CRDNotInstalled without the Prometheus Operator CRDs, and does not loop on it', async () => {
    const discovery = await kube.request('GET', '/apis/monitoring.coreos.com/v1');
    expect(discovery.status, 'this file installs the Prometheus Operator CRDs itself; they must not exist yet').toBe(404);
    await kube.create(EP_PATH(namespace), pipelineManifest(namespace, NAME, { monitoring: { grafanaDashboards: { enabled: true } } }));
    const condition = await waitForCondition(kube, namespace, NAME, 'ServiceMonitorReady', 'False', 'CRDNotInstalled');
    expect(condition.message).toContain('monitoring.coreos.com/v1');
    expect(await errorCount()).toBe(0);
    // Dashboards need no CRD: one ConfigMap each, labelled for the Grafana sidecar.
    for (const id of ['pipeline-health', 'product-overview']) {
      const configMap = await eventually<KubeObject & { data?: Record<string, string> }>(`dashboard ${id}`, () =>
        kube.find(`/api/v1/namespaces/${namespace}/configmaps/${names.dashboard(id)}`),
      );
      expect(configMap.metadata?.labels?.grafana_dashboard).toBe('1');
      expect(JSON.parse(configMap.data?.[`eap-${id}.json`] ?? '{}').panels.length).toBeGreaterThan(0);
    }
    reconcilesBefore = await reconcileCount();
  });

  it('creates ServiceMonitors and the PrometheusRule once the CRDs are installed', async () => {
    for (const crd of prometheusOperatorCrds()) {
      const response = await kube.apply(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
        crd,
        'eap-tests',
        true,
      );
      expect(response.status).toBeLessThan(300);
    }
    await eventually('monitoring.coreos.com/v1 to be served', async () =>
      (await kube.request('GET', '/apis/monitoring.coreos.com/v1/servicemonitors')).status === 200 ? true : undefined,
    );
    // Nothing about the pipeline changes: the operator's discovery poll (every 10 s by default,
    // the resync period is 5 min) notices the new kinds and reconciles the idle pipeline.
    const installed = Date.now();
    await waitForCondition(kube, namespace, NAME, 'ServiceMonitorReady', 'True', 'Created');
    console.log(`ServiceMonitorReady=True ${((Date.now() - installed) / 1000).toFixed(1)} s after the CRDs were served`);
    for (const name of [names.api, names.worker]) {
      const monitor = await kube.get<
        KubeObject & { spec: { endpoints: Array<{ port: string; interval: string }>; selector: { matchLabels: Record<string, string> } } }
      >(`/apis/monitoring.coreos.com/v1/namespaces/${namespace}/servicemonitors/${name}`);
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', interval: '30s', path: '/metrics' })]);
      // Only the admin-port Service of the component matches: never the public API Service.
      const services = await kube.get<{ items: KubeObject[] }>(`/api/v1/namespaces/${namespace}/services`);
      const selected = services.items.filter((service) =>
        Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => service.metadata?.labels?.[key] === value),
      );
      expect(selected.map((service) => service.metadata?.name)).toEqual([`${name}-metrics`]);
    }
    const rule = await kube.get<KubeObject & { spec: { groups: Array<{ rules: Array<{ alert: string }> }> } }>(
      `/apis/monitoring.coreos.com/v1/namespaces/${namespace}/prometheusrules/${names.prometheusRule}`,
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
    await kube.mergePatch(EP_PATH(namespace, NAME), {
      spec: {
        monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false }, grafanaDashboards: { enabled: false } },
      },
    });
    await waitForCondition(kube, namespace, NAME, 'ServiceMonitorReady', 'True', 'Disabled');
    await eventually('the monitoring objects to be deleted', async () => {
      const left = await Promise.all([
        kube.find(`/apis/monitoring.coreos.com/v1/namespaces/${namespace}/servicemonitors/${names.api}`),
        kube.find(`/apis/monitoring.coreos.com/v1/namespaces/${namespace}/servicemonitors/${names.worker}`),
        kube.find(`/apis/monitoring.coreos.com/v1/namespaces/${namespace}/prometheusrules/${names.prometheusRule}`),
        kube.find(`/api/v1/namespaces/${namespace}/configmaps/${names.dashboard('pipeline-health')}`),
      ]);
      return left.every((object) => object === undefined || object.metadata?.deletionTimestamp) ? true : undefined;
    });
  });
});
