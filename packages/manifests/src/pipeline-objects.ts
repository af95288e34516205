import type { EventPipeline } from './event-pipeline.schema.ts';
import { buildDashboardConfigMaps, buildPrometheusRule, buildServiceMonitors } from './monitoring.ts';
import type { MonitoringAssets } from './monitoring-assets.ts';
import { buildMetricsServices, buildNetworkPolicies } from './network-access.ts';
import {
  buildApiDeployment,
  buildApiService,
  buildMigrationJob,
  buildPodDisruptionBudgets,
  buildQueryService,
  buildWorkerDeployment,
  imageReference,
} from './workloads.ts';

/** A Kubernetes object as plain JSON. */
export type KubeManifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};

export interface PipelineObjectsOptions {
  /** The image the API and workers run: the newest whose migrations completed. Undefined: none yet, so no workloads. */
  servingImage: string | undefined;
  /** Which Prometheus Operator kinds the cluster serves (found by discovery). */
  monitoringApis: { serviceMonitors: boolean; prometheusRules: boolean };
  assets: MonitoringAssets;
}

/**
 * Every child object of an EventPipeline, in the order they should be applied. The one manifest
 * source: the operator applies these at run time and the cdk8s app renders them at build time.
 */
export function buildPipelineObjects(pipeline: EventPipeline, options: PipelineObjectsOptions) {
  const { monitoring } = pipeline.spec;
  const migrationJob = buildMigrationJob(pipeline, imageReference(pipeline.spec.image)) as KubeManifest;
  const separateQuery = pipeline.spec.query.separate;
  const services = [
    buildApiService(pipeline),
    ...(separateQuery ? [buildQueryService(pipeline)] : []),
    ...buildMetricsServices(pipeline),
  ] as KubeManifest[];
  const networkPolicies = buildNetworkPolicies(pipeline) as KubeManifest[];
  const workloads = (
    options.servingImage === undefined
      ? []
      : [
          buildApiDeployment(pipeline, options.servingImage),
          ...(separateQuery ? [buildApiDeployment(pipeline, options.servingImage, 'query')] : []),
          buildWorkerDeployment(pipeline, options.servingImage),
          ...buildPodDisruptionBudgets(pipeline),
        ]
  ) as KubeManifest[];
  const serviceMonitors = (
    monitoring.serviceMonitor.enabled && options.monitoringApis.serviceMonitors ? buildServiceMonitors(pipeline) : []
  ) as KubeManifest[];
  const prometheusRules = (
    monitoring.prometheusRule.enabled && options.monitoringApis.prometheusRules ? [buildPrometheusRule(pipeline, options.assets)] : []
  ) as KubeManifest[];
  const dashboards = (monitoring.grafanaDashboards.enabled ? buildDashboardConfigMaps(pipeline, options.assets) : []) as KubeManifest[];
  return { migrationJob, services, networkPolicies, workloads, serviceMonitors, prometheusRules, dashboards };
}
