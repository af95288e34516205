import { EVENT_PIPELINE_API_VERSION, EVENT_PIPELINE, type EventPipeline } from './event-pipeline.schema.ts';

export type Component = 'api' | 'query' | 'worker' | 'migrations' | 'monitoring';

/** Label on every object the operator creates; its informers watch only these. */
export const MANAGED_BY_LABEL = { 'app.kubernetes.io/managed-by': 'eap-operator' } as const;
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/**
 * Marks the Services that publish a component's admin port (`/metrics`, `/livez`, `/readyz`); the
 * ServiceMonitors select only these, never the public API Service.
 */
export const METRICS_SERVICE_LABEL = { 'eap.dev/admin-port': 'true' } as const;

/** Labels that select one component's pods; stable for the life of the pipeline (selectors are immutable). */
export function selectorLabels(pipeline: EventPipeline, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'eap', [INSTANCE_LABEL]: pipeline.metadata.name, [COMPONENT_LABEL]: component };
}

export function objectLabels(pipeline: EventPipeline, component: Component): Record<string, string> {
  return { ...selectorLabels(pipeline, component), 'app.kubernetes.io/part-of': 'eap', ...MANAGED_BY_LABEL };
}

/** Makes the EventPipeline the controller owner, so deleting it garbage-collects every child. */
export function ownerReference(pipeline: EventPipeline) {
  if (!pipeline.metadata.uid) throw new Error(`EventPipeline ${pipeline.metadata.name} has no uid`);
  return {
    apiVersion: EVENT_PIPELINE_API_VERSION,
    kind: EVENT_PIPELINE.kind,
    name: pipeline.metadata.name,
    uid: pipeline.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * metadata for a child object of `pipeline`. Owned by the pipeline when it exists in a cluster
 * (has a uid); the plain manifests rendered without the operator have no owner.
 */
export function childMeta(pipeline: EventPipeline, name: string, component: Component, extraLabels: Record<string, string> = {}) {
  return {
    name,
    namespace: pipeline.metadata.namespace,
    labels: { ...extraLabels, ...objectLabels(pipeline, component) },
    ...(pipeline.metadata.uid ? { ownerReferences: [ownerReference(pipeline)] } : {}),
  };
}

/** Names of the child objects, derived from the pipeline's name (at most 40 characters, checked by the CRD). */
export function childNames(pipeline: { metadata: { name: string } }) {
  const name = pipeline.metadata.name;
  return {
    api: `${name}-api`,
    worker: `${name}-worker`,
    apiMetrics: `${name}-api-metrics`,
    query: `${name}-query`,
    queryMetrics: `${name}-query-metrics`,
    workerMetrics: `${name}-worker-metrics`,
    prometheusRule: `${name}-alerts`,
    dashboard: (id: string) => `${name}-dashboard-${id}`,
  };
}
