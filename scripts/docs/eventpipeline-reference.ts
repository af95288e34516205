// The EventPipeline reference (docs/eventpipeline.md), from the CRD's schema, which is generated
// from the zod spec: every field with its type, default and description.
import { buildEventPipelineCrd, CONDITION_TYPES } from '../../packages/manifests/src/index.ts';
import { code, generatedNotice, table } from './markdown.ts';

interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  required?: string[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: Array<{ rule: string; message: string }>;
}

function typeOf(schema: Schema): string {
  if (schema['x-kubernetes-int-or-string']) return 'quantity';
  if (schema.enum) return schema.enum.map((value) => String(value)).join(' | ');
  if (schema.type === 'array') return `${typeOf(schema.items ?? {})}[]`;
  if (schema.type === 'object' && schema.additionalProperties) return `map of ${typeOf(schema.additionalProperties)}`;
  const range = schema.minimum !== undefined || schema.maximum !== undefined ? ` ${schema.minimum ?? ''}–${schema.maximum ?? ''}` : '';
  return `${schema.type ?? 'any'}${range}`;
}

/**
 * Leaf fields and maps (objects with properties are expanded), depth first. `optionalAncestor` is
 * the nearest optional object above, if any: its required fields are required only when it is set.
 */
function rows(
  schema: Schema,
  path: string,
  required: boolean,
  optionalAncestor: string | undefined,
  out: string[][],
  rules: string[][],
): void {
  for (const rule of schema['x-kubernetes-validations'] ?? []) rules.push([code(path), rule.message, code(rule.rule)]);
  if (schema.type === 'object' && schema.properties) {
    const ancestor = optionalAncestor ?? (required || schema.default !== undefined ? undefined : path);
    for (const [name, child] of Object.entries(schema.properties)) {
      rows(child, `${path}.${name}`, schema.required?.includes(name) ?? false, ancestor, out, rules);
    }
    return;
  }
  let fallback = '—';
  if (schema.default !== undefined) fallback = code(JSON.stringify(schema.default));
  else if (required) fallback = optionalAncestor ? `**required** with ${code(optionalAncestor)}` : '**required**';
  // The schema's descriptions end with "Default …." for kubectl explain; the table has a column for it.
  const description =
    schema.default === undefined ? (schema.description ?? '') : (schema.description ?? '').replace(/ Default (".*"|[^.]*)\.$/, '');
  out.push([code(path), typeOf(schema), fallback, description]);
}

export function eventPipelineReference(): string {
  const crd = buildEventPipelineCrd();
  const version = crd.spec.versions[0];
  const root = version?.schema.openAPIV3Schema as unknown as Schema & { properties: { spec: Schema } };
  const fields: string[][] = [];
  const rules: string[][] = [];
  rows(root.properties.spec, 'spec', true, undefined, fields, rules);
  const rootRules = (root['x-kubernetes-validations'] ?? []).map((rule) => [code('metadata'), rule.message, code(rule.rule)]);
  return [
    generatedNotice('scripts/generate-crd.ts', 'packages/manifests/src/event-pipeline.schema.ts'),
    '',
    `# EventPipeline (${crd.spec.group}/${version?.name})`,
    '',
    'One EventPipeline is one running pipeline: the operator runs its migrations as a Job, then the',
    'API and worker Deployments, Services (the public API port on one, the admin port on headless',
    'ones of its own) and PodDisruptionBudgets, optionally NetworkPolicies, scales the workers on the',
    'consumer-group backlog and, when the Prometheus Operator is installed, its ServiceMonitors and',
    'PrometheusRule. Every field but the two Secret references has a default, filled in by the API',
    'server (`kubectl get eventpipeline -o yaml` shows them). `kubectl explain eventpipeline.spec`',
    'shows the same descriptions.',
    '',
    '## Spec',
    '',
    table(['field', 'type', 'default', 'description'], fields),
    '',
    '## Rules checked by the API server',
    '',
    table(['where', 'message', 'CEL rule'], [...rootRules, ...rules]),
    '',
    '## Status',
    '',
    `Conditions (standard shape: type, status, reason, message, lastTransitionTime, observedGeneration): ${CONDITION_TYPES.map(code).join(', ')}.`,
    '`Ready` is True when migrations for `spec.image` completed and the API and workers are available;',
    '`AutoscalerHealthy` and `ServiceMonitorReady` are reported but do not make a pipeline unready.',
    '`status.servingImage` is the image the API and workers run; `status.workers` has `replicas`,',
    '`desiredReplicas`, `backlog` and `lastScaleTime` from the autoscaler.',
    '',
  ].join('\n');
}
