/**
 * The objects built from cdk8s-plus-28 constructs against the record of what the hand-written
 * builders returned before (fixtures/pre-cdk8s-plus.json, fixtures/record-pipeline-objects.ts):
 * every object of every pipeline variant, field by field. The operator server-side-applies these
 * objects, so a field that changed would change live objects on the operator's upgrade (and a
 * changed pod template would roll every pipeline's pods).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EventPipeline } from './event-pipeline.schema.ts';
import { type Difference, objectDifferences } from './fixtures/object-differences.ts';
import { pipelineVariants, VARIANT_ASSETS } from './fixtures/pipeline-variants.ts';
import { loadMonitoringAssets } from './monitoring-assets.ts';
import { buildPipelineObjects, type PipelineObjectsOptions } from './pipeline-objects.ts';

interface RecordedVariant {
  pipeline: EventPipeline;
  options: { servingImage: string | null; monitoringApis: PipelineObjectsOptions['monitoringApis'] };
  objects: unknown;
}

const record = JSON.parse(readFileSync(new URL('./fixtures/pre-cdk8s-plus.json', import.meta.url), 'utf8')) as Record<
  string,
  RecordedVariant
>;

/**
 * The differences from the record that are meant, each with why: `variant` and `path` (as
 * objectDifferences writes it, e.g. `workloads[0].spec.replicas`), the old and the new value.
 * None: the constructs' output is the record's, field for field (cdk8s-plus-28's own defaults are
 * removed in cdk8s-plus-defaults.ts).
 */
const DOCUMENTED_DIFFERENCES: Array<Difference & { variant: string; why: string }> = [];

/** Today's output for a recorded variant, as the JSON the operator sends. */
function buildNow({ pipeline, options }: RecordedVariant) {
  const objects = buildPipelineObjects(pipeline, { ...options, servingImage: options.servingImage ?? undefined, assets: VARIANT_ASSETS });
  return JSON.parse(JSON.stringify(objects)) as unknown;
}

describe('the EventPipeline children built from cdk8s-plus-28 constructs', () => {
  it('are recorded for every variant, with every kind of child', () => {
    expect(Object.keys(record)).toEqual(Object.keys(pipelineVariants()));
    const kinds = new Set(
      Object.values(record).flatMap((variant) =>
        Object.values(variant.objects as Record<string, unknown>).flatMap((group) => (Array.isArray(group) ? group : [group])),
      ),
    );
    expect(new Set([...kinds].map((object) => (object as { kind: string }).kind))).toEqual(
      new Set(['Job', 'Service', 'NetworkPolicy', 'Deployment', 'PodDisruptionBudget', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap']),
    );
  });

  it.each(Object.keys(record))('%s: equal the record field for field, but for the documented differences', (name) => {
    const variant = record[name] as RecordedVariant;
    const differences = objectDifferences(variant.objects, buildNow(variant));
    const documented = DOCUMENTED_DIFFERENCES.filter((d) => d.variant === name).map(({ path, old, new: now }) => ({ path, old, new: now }));
    expect(differences).toEqual(documented);
  });

  it('would see a changed, added or removed field, or objects in another order', () => {
    const before = record.owned?.objects as { workloads: Array<Record<string, unknown>> };
    const after = structuredClone(before);
    const worker = after.workloads[1] as { spec: { replicas?: number; template: { spec: Record<string, unknown> } } };
    worker.spec.replicas = 1;
    worker.spec.template.spec.terminationGracePeriodSeconds = 29;
    delete worker.spec.template.spec.automountServiceAccountToken;
    expect(objectDifferences(before, after)).toEqual([
      { path: 'workloads[1].spec.replicas', old: undefined, new: 1 },
      { path: 'workloads[1].spec.template.spec.automountServiceAccountToken', old: false, new: undefined },
      { path: 'workloads[1].spec.template.spec.terminationGracePeriodSeconds', old: 30, new: 29 },
    ]);
    after.workloads.reverse();
    expect(objectDifferences(before.workloads, after.workloads).length).toBeGreaterThan(3);
  });

  it('carry the alert rules and dashboards of deploy/ unchanged', () => {
    const assets = loadMonitoringAssets();
    const variant = record['monitoring-labels-dashboards'] as RecordedVariant;
    const objects = buildPipelineObjects(variant.pipeline, {
      servingImage: 'eap:1',
      monitoringApis: { serviceMonitors: true, prometheusRules: true },
      assets,
    });
    expect(objects.prometheusRules.map((rule) => (rule.spec as { groups: unknown }).groups)).toEqual([
      JSON.parse(JSON.stringify(assets.ruleGroups)),
    ]);
    expect(objects.dashboards.map((configMap) => configMap.data)).toEqual(
      Object.entries(assets.dashboards).map(([id, json]) => ({ [`eap-${id}.json`]: json })),
    );
  });
});
