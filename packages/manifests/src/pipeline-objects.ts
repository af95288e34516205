import { groupedJson, type KubeManifest, objectsChart } from './chart-json.ts';
import type { EventPipeline } from './event-pipeline.schema.ts';
import { PipelineChildren, type PipelineObjectsOptions } from './pipeline-children.ts';

export type { KubeManifest } from './chart-json.ts';
export type { PipelineObjectsOptions } from './pipeline-children.ts';

/**
 * Every child object of an EventPipeline as plain JSON, grouped in the order they should be
 * applied: the PipelineChildren constructs, synthesized in memory (one App and Chart per call).
 */
export function buildPipelineObjects(pipeline: EventPipeline, options: PipelineObjectsOptions) {
  const chart = objectsChart();
  const children = new PipelineChildren(chart, 'pipeline', { pipeline, ...options });
  const { migrationJob, ...rest } = groupedJson(chart, children.groups);
  return { migrationJob: migrationJob[0] as KubeManifest, ...rest };
}
