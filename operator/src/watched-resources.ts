import { EVENT_PIPELINE, type EventPipelineStatus } from '@eap/manifests';
import type { KubernetesListObject, KubernetesObject, V1Deployment, V1Job } from '@kubernetes/client-node';
import type { KubeClients } from './kube-clients.ts';

/** An EventPipeline as the API server returns it: spec not yet validated. */
export type EventPipelineObject = KubernetesObject & { spec?: unknown; status?: EventPipelineStatus };

/**
 * One kind the operator lists and watches: where its collection lives in the REST API (the
 * library's watch needs the path) and how to list it with the library's typed client.
 */
export interface WatchedResource<T extends KubernetesObject> {
  /** `<plural>.<group>`, as the API server names it in its answers (e.g. `jobs.batch is forbidden`). */
  name: string;
  /** REST path of the collection: in `namespace`, or across all namespaces. */
  path: string;
  labelSelector?: string | undefined;
  list(): Promise<KubernetesListObject<T>>;
}

function collectionPath(apiVersion: string, plural: string, namespace: string | undefined): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

export function eventPipelines(clients: KubeClients, namespace: string | undefined): WatchedResource<EventPipelineObject> {
  const { group, version, plural } = EVENT_PIPELINE;
  return {
    name: `${plural}.${group}`,
    path: collectionPath(`${group}/${version}`, plural, namespace),
    list: () =>
      namespace === undefined
        ? clients.customObjects.listClusterCustomObject({ group, version, plural })
        : clients.customObjects.listNamespacedCustomObject({ group, version, plural, namespace }),
  };
}

export function deployments(clients: KubeClients, namespace: string | undefined, labelSelector: string): WatchedResource<V1Deployment> {
  return {
    name: 'deployments.apps',
    path: collectionPath('apps/v1', 'deployments', namespace),
    labelSelector,
    list: () =>
      namespace === undefined
        ? clients.apps.listDeploymentForAllNamespaces({ labelSelector })
        : clients.apps.listNamespacedDeployment({ namespace, labelSelector }),
  };
}

export function jobs(clients: KubeClients, namespace: string | undefined, labelSelector: string): WatchedResource<V1Job> {
  return {
    name: 'jobs.batch',
    path: collectionPath('batch/v1', 'jobs', namespace),
    labelSelector,
    list: () =>
      namespace === undefined
        ? clients.batch.listJobForAllNamespaces({ labelSelector })
        : clients.batch.listNamespacedJob({ namespace, labelSelector }),
  };
}
