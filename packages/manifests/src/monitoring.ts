import type { EventPipeline } from './event-pipeline.schema.ts';
import { childMeta, childNames, METRICS_SERVICE_LABEL, selectorLabels } from './labels.ts';
import type { MonitoringAssets } from './monitoring-assets.ts';
import { apiComponents } from './workloads.ts';

export const MONITORING_GROUP_VERSION = 'monitoring.coreos.com/v1';

/**
 * ServiceMonitors scraping the `metrics` port of the API's (and the query pods') and the
 * workers' admin-port Services (buildMetricsServices); the public API Service does not carry
 * that port and is not selected.
 */
export function buildServiceMonitors(pipeline: EventPipeline) {
  const { serviceMonitor } = pipeline.spec.monitoring;
  const names = childNames(pipeline);
  return ([...apiComponents(pipeline), 'worker'] as const).map((component) => ({
    apiVersion: MONITORING_GROUP_VERSION,
    kind: 'ServiceMonitor',
    metadata: childMeta(pipeline, names[component], component, serviceMonitor.labels),
    spec: {
      selector: { matchLabels: { ...selectorLabels(pipeline, component), ...METRICS_SERVICE_LABEL } },
      namespaceSelector: { matchNames: [pipeline.metadata.namespace] },
      endpoints: [{ port: 'metrics', path: '/metrics', interval: serviceMonitor.interval }],
    },
  }));
}

/** The pipeline alerts (backlog growing, DLQ growing, 5xx rate, no writes) as a PrometheusRule. */
export function buildPrometheusRule(pipeline: EventPipeline, assets: MonitoringAssets) {
  return {
    apiVersion: MONITORING_GROUP_VERSION,
    kind: 'PrometheusRule',
    metadata: childMeta(pipeline, childNames(pipeline).prometheusRule, 'monitoring', pipeline.spec.monitoring.prometheusRule.labels),
    spec: { groups: assets.ruleGroups },
  };
}

/** One ConfigMap per dashboard, labelled for the Grafana sidecar (grafana_dashboard=1 by default). */
export function buildDashboardConfigMaps(pipeline: EventPipeline, assets: MonitoringAssets) {
  const names = childNames(pipeline);
  return Object.entries(assets.dashboards).map(([id, json]) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(pipeline, names.dashboard(id), 'monitoring', pipeline.spec.monitoring.grafanaDashboards.labels),
    data: { [`eap-${id}.json`]: json },
  }));
}
