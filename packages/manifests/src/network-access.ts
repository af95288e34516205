import { ApiObject, JsonPatch } from 'cdk8s';
import { NetworkPolicy, NetworkPolicyTrafficDefault, Pods, type Service } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { EventPipeline } from './event-pipeline.schema.ts';
import { childMeta, childNames, METRICS_SERVICE_LABEL, selectorLabels } from './labels.ts';
import { addComponentService } from './services.ts';
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
export function addMetricsServices(scope: Construct, pipeline: EventPipeline): Service[] {
  const names = childNames(pipeline);
  const metricsName = { api: names.apiMetrics, query: names.queryMetrics, worker: names.workerMetrics };
  return ([...apiComponents(pipeline), 'worker'] as const).map((component) =>
    addComponentService(scope, pipeline, {
      name: metricsName[component],
      component,
      type: 'ClusterIP',
      clusterIP: 'None',
      port: { name: 'metrics', port: ADMIN_CONTAINER_PORT },
      extraLabels: METRICS_SERVICE_LABEL,
    }),
  );
}

/**
 * NetworkPolicies (Ingress only) for the API pods and the query pods (public port from anywhere,
 * admin port from `metricsFrom`) and the worker pods (admin port from `metricsFrom`, nothing else). An empty
 * `metricsFrom` leaves out the admin-port rule altogether: a rule without peers would admit every
 * source. None when `spec.networkPolicy.enabled` is false.
 *
 * The policy, its pod selector and its policy type are cdk8s-plus-28's; the rules are written as
 * Kubernetes has them: cdk8s-plus cannot express a rule without peers ("from anywhere", which
 * also admits traffic from outside the cluster through a LoadBalancer or NodePort), and its peers
 * would add `podSelector: {}` to a namespace-only `metricsFrom` entry.
 */
export function addNetworkPolicies(scope: Construct, pipeline: EventPipeline): NetworkPolicy[] {
  const { enabled, metricsFrom } = pipeline.spec.networkPolicy;
  if (!enabled) return [];
  const names = childNames(pipeline);
  // Ports as the typed k8s classes hold an int-or-string (cdk8s-plus-defaults.ts).
  const adminRule =
    metricsFrom.length > 0 ? [{ from: metricsFrom, ports: [{ protocol: 'TCP', port: { value: ADMIN_CONTAINER_PORT } }] }] : [];
  const publicRule = { ports: [{ protocol: 'TCP', port: { value: API_CONTAINER_PORT } }] };
  return ([...apiComponents(pipeline), 'worker'] as const).map((component) => {
    const id = `networkpolicy-${names[component]}`;
    const policy = new NetworkPolicy(scope, id, {
      metadata: childMeta(pipeline, names[component], component),
      selector: Pods.select(scope, `${id}-pods`, { labels: selectorLabels(pipeline, component) }),
      // Ingress is denied but for the rules below (an empty list denies all of it).
      ingress: { default: NetworkPolicyTrafficDefault.DENY },
    });
    ApiObject.of(policy).addJsonPatch(JsonPatch.add('/spec/ingress', component === 'worker' ? adminRule : [publicRule, ...adminRule]));
    return policy;
  });
}
