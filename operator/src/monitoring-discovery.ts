import { type Configuration, KubernetesObjectApi } from '@kubernetes/client-node';
import { httpStatusOf } from './kube-clients.ts';

export interface MonitoringApis {
  serviceMonitors: boolean;
  prometheusRules: boolean;
}

const MONITORING_API = 'monitoring.coreos.com/v1';

/** The library's discovery (KubernetesObjectApi's REST mapping), asked afresh on every call. */
class FreshDiscovery extends KubernetesObjectApi {
  async served(apiVersion: string, kinds: readonly string[]): Promise<boolean[]> {
    // The library keeps what it found for good; CRDs come and go.
    this.apiVersionResourceCache = {};
    const served: boolean[] = [];
    // One GET: later kinds are looked up in the resource list the first fetched (fetched again if absent).
    for (const kind of kinds) served.push((await this.resource(apiVersion, kind)) !== undefined);
    return served;
  }
}

/**
 * Asks the API server (discovery of monitoring.coreos.com/v1, the one discovery URL the chart
 * grants) whether the Prometheus Operator's kinds are served. Called on every reconcile and
 * periodically, so installing or removing the CRDs later is noticed without a restart.
 */
export async function discoverMonitoringApis(configuration: Configuration): Promise<MonitoringApis> {
  try {
    const [serviceMonitors = false, prometheusRules = false] = await new FreshDiscovery(configuration).served(MONITORING_API, [
      'ServiceMonitor',
      'PrometheusRule',
    ]);
    return { serviceMonitors, prometheusRules };
  } catch (error) {
    if (httpStatusOf(error) === 404) return { serviceMonitors: false, prometheusRules: false };
    throw error;
  }
}
