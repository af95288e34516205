import { EVENT_PIPELINE } from '@eap/manifests';

/** Where a namespaced kind lives in the REST API. */
export interface ResourceType {
  /** `v1` for the core group, else `group/version`. */
  apiVersion: string;
  kind: string;
  plural: string;
}

export const RESOURCES = {
  eventPipeline: {
    apiVersion: `${EVENT_PIPELINE.group}/${EVENT_PIPELINE.version}`,
    kind: EVENT_PIPELINE.kind,
    plural: EVENT_PIPELINE.plural,
  },
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  job: { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs' },
  service: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  event: { apiVersion: 'v1', kind: 'Event', plural: 'events' },
  networkPolicy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  podDisruptionBudget: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  serviceMonitor: { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', plural: 'servicemonitors' },
  prometheusRule: { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', plural: 'prometheusrules' },
  lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases' },
} as const satisfies Record<string, ResourceType>;

const KINDS = new Map<string, ResourceType>(Object.values(RESOURCES).map((r) => [`${r.apiVersion}/${r.kind}`, r]));

/** The resource of a manifest's apiVersion and kind. */
export function resourceOf(apiVersion: string, kind: string): ResourceType {
  const resource = KINDS.get(`${apiVersion}/${kind}`);
  if (!resource) throw new Error(`unknown kind ${apiVersion} ${kind}`);
  return resource;
}

/**
 * REST path of a namespaced collection (`namespace` undefined: across all namespaces) or, with
 * `name`, of one object (and `subresource` of it).
 */
export function resourcePath(resource: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = resource.apiVersion.includes('/') ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
  let path =
    namespace === undefined ? `${base}/${resource.plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}
