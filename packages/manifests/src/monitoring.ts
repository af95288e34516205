import { ApiObject } from 'cdk8s';
import { ConfigMap } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { overrideConfigMapDefaults } from './cdk8s-plus-defaults.ts';
import type { EventPipeline } from './event-pipeline.schema.ts';
import { childMeta, childNames, METRICS_SERVICE_LABEL, selectorLabels } from './labels.ts';
import type { MonitoringAssets } from './monitoring-assets.ts';
import { apiComponents } from './workloads.ts';

/** The Prometheus Operator's kinds are ApiObjects: there is no `cdk8s import` of their CRDs without a network. */
export const MONITORING_GROUP_VERSION = 'monitoring.coreos.com/v1';

/**
 * ServiceMonitors scraping the `metrics` port of the API's (and the query pods') and the
 * workers' admin-port Services (addMetricsServices); the public API Service does not carry
 * that port and is not selected.
 */
export function addServiceMonitors(scope: Construct, pipeline: EventPipeline): ApiObject[] {
  const { serviceMonitor } = pipeline.spec.monitoring;
  const names = childNames(pipeline);
  return ([...apiComponents(pipeline), 'worker'] as const).map(
    (component) =>
      new ApiObject(scope, `servicemonitor-${names[component]}`, {
        apiVersion: MONITORING_GROUP_VERSION,
        kind: 'ServiceMonitor',
        metadata: childMeta(pipeline, names[component], component, serviceMonitor.labels),
        spec: {
          selector: { matchLabels: { ...selectorLabels(pipeline, component), ...METRICS_SERVICE_LABEL } },
          namespaceSelector: { matchNames: [pipeline.metadata.namespace] },
          endpoints: [{ port: 'metrics', path: '/metrics', interval: serviceMonitor.interval }],
        },
      }),
  );
}

/** The pipeline alerts (backlog growing, DLQ growing, 5xx rate, no writes) as a PrometheusRule. */
export function addPrometheusRule(scope: Construct, pipeline: EventPipeline, assets: MonitoringAssets): ApiObject {
  const name = childNames(pipeline).prometheusRule;
  return new ApiObject(scope, `prometheusrule-${name}`, {
    apiVersion: MONITORING_GROUP_VERSION,
    kind: 'PrometheusRule',
    metadata: childMeta(pipeline, name, 'monitoring', pipeline.spec.monitoring.prometheusRule.labels),
    spec: { groups: assets.ruleGroups },
  });
}

/** One ConfigMap per dashboard, labelled for the Grafana sidecar (grafana_dashboard=1 by default). */
export function addDashboardConfigMaps(scope: Construct, pipeline: EventPipeline, assets: MonitoringAssets): ConfigMap[] {
  const names = childNames(pipeline);
  return Object.entries(assets.dashboards).map(([id, json]) => {
    const configMap = new ConfigMap(scope, `configmap-${names.dashboard(id)}`, {
      metadata: childMeta(pipeline, names.dashboard(id), 'monitoring', pipeline.spec.monitoring.grafanaDashboards.labels),
      data: { [`eap-${id}.json`]: json },
    });
    overrideConfigMapDefaults(configMap);
    return configMap;
  });
}
