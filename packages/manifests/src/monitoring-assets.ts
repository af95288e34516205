import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The alert rules and Grafana dashboards, read from the files the docker-compose stack mounts
 * (deploy/prometheus/alerts.yml, deploy/grafana/dashboards/*.json), so that Prometheus in
 * compose and the PrometheusRule and dashboard ConfigMaps in Kubernetes come from one source.
 */
export interface MonitoringAssets {
  /** `groups` of deploy/prometheus/alerts.yml. */
  ruleGroups: unknown[];
  /** Dashboard id → JSON text. */
  dashboards: Record<string, string>;
}

export const DASHBOARD_IDS = ['pipeline-health', 'product-overview'] as const;

const deployDir = new URL('../../../deploy/', import.meta.url);

export function loadMonitoringAssets(): MonitoringAssets {
  const alerts = parse(readFileSync(new URL('prometheus/alerts.yml', deployDir), 'utf8')) as { groups?: unknown[] };
  if (!Array.isArray(alerts.groups)) throw new Error('deploy/prometheus/alerts.yml has no groups');
  const dashboards: Record<string, string> = {};
  for (const id of DASHBOARD_IDS) dashboards[id] = readFileSync(new URL(`grafana/dashboards/${id}.json`, deployDir), 'utf8');
  return { ruleGroups: alerts.groups, dashboards };
}
