/**
 * The tuning an EventPipeline passes to its pods: with every default of the spec, each variable it
 * sets from the spec holds the service's own default, so a pipeline the operator runs and a plain
 * `eap api` / `eap worker` (docker compose, `make dev`) behave alike. The defaults live in two
 * schemas (the EventPipeline's in @eap/manifests, the services' in their config), and a default
 * changed in one alone fails here.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ApiConfigSchema } from '@eap/api';
import { WorkerConfigSchema } from '@eap/worker';
import { buildPipelineObjects, EventPipelineSpecSchema, type EventPipeline } from '../packages/manifests/src/index.ts';
import { VARIANT_ASSETS } from '../packages/manifests/src/fixtures/pipeline-variants.ts';

/** The variables the operator sets from the EventPipeline spec, per container. */
const FROM_SPEC = {
  api: { schema: ApiConfigSchema, names: ['STREAM_SHARDS', 'RATE_LIMIT_PER_SECOND', 'RATE_LIMIT_BURST'] },
  worker: { schema: WorkerConfigSchema, names: ['STREAM_SHARDS', 'WORKER_BATCH_SIZE'] },
} as const;

interface Container {
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
}

function defaultPipelineEnv(): Map<string, Map<string, string | undefined>> {
  const pipeline: EventPipeline = {
    apiVersion: 'eap.dev/v1alpha1',
    kind: 'EventPipeline',
    metadata: { name: 'defaults', namespace: 'eap' },
    spec: EventPipelineSpecSchema.parse({ redis: { urlSecretRef: { name: 'r' } }, postgres: { urlSecretRef: { name: 'p' } } }),
  };
  const objects = buildPipelineObjects(pipeline, {
    servingImage: 'eap:1',
    monitoringApis: { serviceMonitors: false, prometheusRules: false },
    assets: VARIANT_ASSETS,
  });
  const envByCommand = new Map<string, Map<string, string | undefined>>();
  for (const workload of objects.workloads) {
    if (workload.kind !== 'Deployment') continue;
    const deployment = workload as unknown as { spec: { template: { spec: { containers: Container[] } } } };
    for (const container of deployment.spec.template.spec.containers) {
      const command = container.args?.[0];
      if (command) envByCommand.set(command, new Map((container.env ?? []).map((e) => [e.name, e.value])));
    }
  }
  return envByCommand;
}

describe('an EventPipeline with every default', () => {
  const env = defaultPipelineEnv();

  it.each(Object.entries(FROM_SPEC))('gives `eap %s` the defaults it has on its own', (command, { schema, names }) => {
    const container = env.get(command);
    expect(container, `a container running eap ${command}`).toBeDefined();
    const shape = (schema as z.ZodObject).shape as Record<string, z.ZodType>;
    for (const name of names) {
      expect(container?.get(name), name).toBe(String(shape[name]!.parse(undefined)));
    }
  });
});
