import type { KubeClient } from './kube/kube-client.ts';

export interface MonitoringApis {
  serviceMonitors: boolean;
  prometheusRules: boolean;
}

/**
 * Asks the API server (discovery) whether the Prometheus Operator's kinds are served. Called on
 * every reconcile, so installing the CRDs later is picked up without restarting the operator.
 */
export async function discoverMonitoringApis(kube: KubeClient): Promise<MonitoringApis> {
  const response = await kube.request<{ resources?: Array<{ name: string }> }>('GET', '/apis/monitoring.coreos.com/v1');
  if (response.status === 404) return { serviceMonitors: false, prometheusRules: false };
  if (response.status !== 200) throw new Error(`discovery of monitoring.coreos.com/v1: HTTP ${response.status}`);
  const names = new Set((response.body.resources ?? []).map((resource) => resource.name));
  return { serviceMonitors: names.has('servicemonitors'), prometheusRules: names.has('prometheusrules') };
}
