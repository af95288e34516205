import type { EventPipeline } from './event-pipeline.schema.ts';
import { childMeta, childNames, METRICS_SERVICE_LABEL, selectorLabels } from './labels.ts';
import { ADMIN_CONTAINER_PORT, API_CONTAINER_PORT, apiComponents } from './workloads.ts';

/**
 * Who can reach which port of a pipeline's pods. The public API Service carries only the ingest
 * and query port; the admin port (9464: /metrics, /livez, /readyz) has Services of its own that
 * are headless (never a load balancer or node port, whatever `spec.api.service.type` is), one per
 * component so each ServiceMonitor selects exactly one; and, when `spec.networkPolicy.enabled`,
 * NetworkPolicies let only `metricsFrom` reach the admin port.
 */

/**
 * Headless Services publishing the `metrics` port of the API pods, the query pods (when
 * `spec.query.separate`) and the worker pods, for the ServiceMonitors.
 */
export function buildMetricsServices(pipeline: EventPipeline) {
  const names = childNames(pipeline);
  const metricsName = { api: names.apiMetrics, query: names.queryMetrics, worker: names.workerMetrics };
  return ([...apiComponents(pipeline), 'worker'] as const).map((component) => {
    const meta = childMeta(pipeline, metricsName[component], component);
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { ...meta, labels: { ...meta.labels, ...METRICS_SERVICE_LABEL } },
      spec: {
        type: 'ClusterIP',
        clusterIP: 'None',
        selector: selectorLabels(pipeline, component),
        ports: [{ name: 'metrics', port: ADMIN_CONTAINER_PORT, targetPort: 'metrics', protocol: 'TCP' }],
      },
    };
  });
}

/**
 * NetworkPolicies (Ingress only) for the API pods and the query pods (public port from anywhere,
 * admin port from `metricsFrom`) and the worker pods (admin port from `metricsFrom`, nothing else). An empty
 * `metricsFrom` leaves out the admin-port rule altogether: a rule without peers would admit every
 * source. Empty when `spec.networkPolicy.enabled` is false.
 */
export function buildNetworkPolicies(pipeline: EventPipeline) {
  const { enabled, metricsFrom } = pipeline.spec.networkPolicy;
  if (!enabled) return [];
  const names = childNames(pipeline);
  const adminRule = metricsFrom.length > 0 ? [{ from: metricsFrom, ports: [{ protocol: 'TCP', port: ADMIN_CONTAINER_PORT }] }] : [];
  const publicRule = { ports: [{ protocol: 'TCP', port: API_CONTAINER_PORT }] };
  return ([...apiComponents(pipeline), 'worker'] as const).map((component) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(pipeline, names[component], component),
    spec: {
      podSelector: { matchLabels: selectorLabels(pipeline, component) },
      policyTypes: ['Ingress'],
      ingress: component === 'worker' ? adminRule : [publicRule, ...adminRule],
    },
  }));
}
