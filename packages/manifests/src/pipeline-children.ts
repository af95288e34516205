import { Construct, type IConstruct } from 'constructs';
import type { EventPipeline } from './event-pipeline.schema.ts';
import { addDashboardConfigMaps, addPrometheusRule, addServiceMonitors } from './monitoring.ts';
import type { MonitoringAssets } from './monitoring-assets.ts';
import { addMetricsServices, addNetworkPolicies } from './network-access.ts';
import { addApiService, addQueryService } from './services.ts';
import { addApiDeployment, addMigrationJob, addPodDisruptionBudgets, addWorkerDeployment, imageReference } from './workloads.ts';

export interface PipelineObjectsOptions {
  /** The image the API and workers run: the newest whose migrations completed. Undefined: none yet, so no workloads. */
  servingImage: string | undefined;
  /** Which Prometheus Operator kinds the cluster serves (found by discovery). */
  monitoringApis: { serviceMonitors: boolean; prometheusRules: boolean };
  assets: MonitoringAssets;
}

export interface PipelineChildrenProps extends PipelineObjectsOptions {
  pipeline: EventPipeline;
  /**
   * Worker replicas, for manifests applied without the operator. Default: none, the autoscaler
   * owns the count through `/scale`.
   */
  workerReplicas?: number;
}

/** The child objects of an EventPipeline by the order in which the operator applies them. */
export type PipelineChildGroups = {
  migrationJob: [IConstruct];
  services: IConstruct[];
  networkPolicies: IConstruct[];
  workloads: IConstruct[];
  serviceMonitors: IConstruct[];
  prometheusRules: IConstruct[];
  dashboards: IConstruct[];
};

/**
 * Every child object of an EventPipeline as cdk8s-plus-28 constructs. The one manifest source:
 * the operator synthesizes it in memory on every reconcile (buildPipelineObjects) and the cdk8s
 * app adds it to its charts.
 */
export class PipelineChildren extends Construct {
  readonly groups: PipelineChildGroups;

  constructor(scope: Construct, id: string, props: PipelineChildrenProps) {
    super(scope, id);
    const { pipeline, servingImage, monitoringApis, assets } = props;
    const { monitoring } = pipeline.spec;
    const separateQuery = pipeline.spec.query.separate;
    const migrationJob = addMigrationJob(this, pipeline, imageReference(pipeline.spec.image));
    const services = [
      addApiService(this, pipeline),
      ...(separateQuery ? [addQueryService(this, pipeline)] : []),
      ...addMetricsServices(this, pipeline),
    ];
    const networkPolicies = addNetworkPolicies(this, pipeline);
    const workloads =
      servingImage === undefined
        ? []
        : [
            addApiDeployment(this, pipeline, servingImage),
            ...(separateQuery ? [addApiDeployment(this, pipeline, servingImage, 'query')] : []),
            addWorkerDeployment(this, pipeline, servingImage, props.workerReplicas),
            ...addPodDisruptionBudgets(this, pipeline),
          ];
    const serviceMonitors = monitoring.serviceMonitor.enabled && monitoringApis.serviceMonitors ? addServiceMonitors(this, pipeline) : [];
    const prometheusRules =
      monitoring.prometheusRule.enabled && monitoringApis.prometheusRules ? [addPrometheusRule(this, pipeline, assets)] : [];
    const dashboards = monitoring.grafanaDashboards.enabled ? addDashboardConfigMaps(this, pipeline, assets) : [];
    this.groups = { migrationJob: [migrationJob], services, networkPolicies, workloads, serviceMonitors, prometheusRules, dashboards };
  }
}
