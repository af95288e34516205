import { EventPipelineSpecSchema, type EventPipeline, type EventPipelineSpecInput } from './event-pipeline.schema.ts';
import { loadMonitoringAssets } from './monitoring-assets.ts';
import { buildPipelineObjects } from './pipeline-objects.ts';

/** For the unit tests: the EventPipeline `shop` in `analytics`, its spec defaulted by the schema. */
export function testPipeline(spec: Partial<EventPipelineSpecInput> = {}): EventPipeline {
  return {
    apiVersion: 'eap.dev/v1alpha1',
    kind: 'EventPipeline',
    metadata: { name: 'shop', namespace: 'analytics' },
    spec: EventPipelineSpecSchema.parse({ redis: { urlSecretRef: { name: 'r' } }, postgres: { urlSecretRef: { name: 'p' } }, ...spec }),
  };
}

/** Every object the operator would apply for `pipeline`, monitoring APIs present. */
export function testPipelineObjects(pipeline: EventPipeline) {
  return buildPipelineObjects(pipeline, {
    servingImage: 'eap:1',
    monitoringApis: { serviceMonitors: true, prometheusRules: true },
    assets: loadMonitoringAssets(),
  });
}
