import { z } from 'zod';
import { stringify } from 'yaml';
import { EVENT_PIPELINE, EventPipelineSpecSchema, EventPipelineStatusSchema } from './event-pipeline.schema.ts';

type JsonSchema = { [key: string]: unknown };

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * Rewrites zod's JSON Schema output into a Kubernetes structural schema: no `additionalProperties:
 * false` (the API server prunes unknown fields instead), int-or-string as the Kubernetes extension
 * rather than `anyOf`, and no ±2^53 bounds zod adds to every integer.
 */
function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== 'object') return node;
  const input = node as JsonSchema;
  if (input['x-kubernetes-int-or-string'] === true) {
    // The shape controller-gen gives quantities: both types, the string pattern at the top level.
    const { anyOf, ...rest } = input;
    const pattern = (anyOf as JsonSchema[] | undefined)?.find((branch) => branch.type === 'string')?.pattern;
    return { ...rest, anyOf: [{ type: 'integer' }, { type: 'string' }], ...(pattern ? { pattern } : {}) };
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && value === false) continue;
    if ((key === 'maximum' && value === SAFE_INTEGER_BOUND) || (key === 'minimum' && value === -SAFE_INTEGER_BOUND)) continue;
    out[key] = key === 'default' || key === 'enum' || key === 'x-kubernetes-validations' ? value : toStructural(value);
  }
  return out;
}

function openApiOf(schema: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' })) as JsonSchema;
}

/**
 * The CustomResourceDefinition of EventPipeline, generated from the zod schemas of its spec and
 * status (the one source of truth). Committed as charts/eap-operator/crds/eventpipelines.eap.dev.yaml.
 */
export function buildEventPipelineCrd() {
  const spec = openApiOf(EventPipelineSpecSchema);
  const status = openApiOf(EventPipelineStatusSchema);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${EVENT_PIPELINE.plural}.${EVENT_PIPELINE.group}`,
      labels: { 'app.kubernetes.io/name': 'eap-operator', 'app.kubernetes.io/part-of': 'eap' },
    },
    spec: {
      group: EVENT_PIPELINE.group,
      scope: 'Namespaced',
      names: {
        kind: EVENT_PIPELINE.kind,
        listKind: EVENT_PIPELINE.listKind,
        plural: EVENT_PIPELINE.plural,
        singular: EVENT_PIPELINE.singular,
        shortNames: [...EVENT_PIPELINE.shortNames],
        categories: ['eap'],
      },
      versions: [
        {
          name: EVENT_PIPELINE.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Workers', type: 'integer', jsonPath: '.status.workers.replicas' },
            { name: 'Backlog', type: 'integer', jsonPath: '.status.workers.backlog' },
            { name: 'Image', type: 'string', jsonPath: '.status.servingImage', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              'x-kubernetes-validations': [
                {
                  rule: 'size(self.metadata.name) <= 40',
                  message: 'metadata.name must be at most 40 characters: child objects add suffixes such as -worker-metrics',
                },
              ],
              description:
                'An EAP event pipeline: ingest API, Redis Streams workers and PostgreSQL migrations, run and scaled by the eap-operator.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: spec,
                status: status,
              },
            },
          },
        },
      ],
    },
  };
}

/** The CRD as the committed YAML file (a header says where it comes from). */
export function crdYaml(crd: ReturnType<typeof buildEventPipelineCrd>): string {
  return `# Generated from packages/manifests/src/event-pipeline.schema.ts by \`make docs\`; do not edit.\n${stringify(crd, { lineWidth: 0 })}`;
}
