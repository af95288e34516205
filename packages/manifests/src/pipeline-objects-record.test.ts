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
 * The API containers' NODE_OPTIONS in a recorded variant, with the 8 MiB young generation the API
 * has had since (SEMI_SPACE_MIB in @eap/core; benchmarks/README.md): found by walking the record,
 * so every other field, the workers' NODE_OPTIONS included, must still be the record's.
 */
function apiYoungGeneration(variant: string, objects: Record<string, unknown>): Array<Difference & { variant: string; why: string }> {
  const found: Array<Difference & { variant: string; why: string }> = [];
  for (const [group, value] of Object.entries(objects)) {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((object: { kind?: string; spec?: { template?: { spec?: { containers?: unknown[] } } } }, i) => {
      if (object?.kind !== 'Deployment') return;
      const containers = (object.spec?.template?.spec?.containers ?? []) as Array<{
        args?: string[];
        env?: Array<{ name: string; value?: string }>;
      }>;
      containers.forEach((container, c) => {
        if (container.args?.[0] !== 'api') return;
        (container.env ?? []).forEach((entry, e) => {
          if (entry.name !== 'NODE_OPTIONS' || entry.value === undefined) return;
          const path = `${Array.isArray(value) ? `${group}[${i}]` : group}.spec.template.spec.containers[${c}].env[${e}].value`;
          const now = entry.value.replace(/^--max-semi-space-size=4\b/, '--max-semi-space-size=8');
          found.push({ variant, path, old: entry.value, new: now, why: 'the API young generation went from 4 to 8 MiB' });
        });
      });
    });
  }
  return found;
}

/**
 * The differences from the record that are meant, each with why: `variant` and `path` (as
 * objectDifferences writes it, e.g. `workloads[0].spec.replicas`), the old and the new value.
 * Only the API's young generation (apiYoungGeneration); otherwise the constructs' output is the
 * record's, field for field (cdk8s-plus-28's own defaults are removed in cdk8s-plus-defaults.ts).
 */
const DOCUMENTED_DIFFERENCES: Array<Difference & { variant: string; why: string }> = Object.entries(record).flatMap(([name, variant]) =>
  apiYoungGeneration(name, variant.objects as Record<string, unknown>),
);

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
