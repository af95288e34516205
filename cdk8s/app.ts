/**
 * The cdk8s app: every Kubernetes manifest EAP ships, synthesized from the same TypeScript
 * modules the operator uses at run time (packages/manifests), so no object is written twice.
 * `make synth` writes cdk8s/dist/:
 * - eventpipeline-crd.k8s.yaml: the EventPipeline CRD;
 * - operator.k8s.yaml: the operator install (namespace eap-system; a test compares it with the
 *   Helm chart's rendering at default values);
 * - sample-eventpipeline.k8s.yaml: an EventPipeline with every default;
 * - pipeline-plain.k8s.yaml: the objects the operator would create for that sample (the same
 *   PipelineChildren constructs, from cdk8s-plus-28), for users who want `kubectl apply` without
 *   the operator (no autoscaling; the worker runs minReplicas, and the API and workers report
 *   not-ready until the migration Job has run).
 */
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  buildEventPipelineCrd,
  type EventPipeline,
  EVENT_PIPELINE,
  EVENT_PIPELINE_API_VERSION,
  EventPipelineSpecSchema,
  type KubeManifest,
  imageReference,
  loadMonitoringAssets,
  OperatorInstall,
  PipelineChildren,
} from '../packages/manifests/src/index.ts';

/** The sample pipeline: namespace `eap`, Secrets `eap-redis` and `eap-postgres` (key `url`). */
export function samplePipeline(): EventPipeline {
  return {
    apiVersion: EVENT_PIPELINE_API_VERSION,
    kind: EVENT_PIPELINE.kind,
    metadata: { name: 'demo', namespace: 'eap' },
    spec: EventPipelineSpecSchema.parse({
      redis: { urlSecretRef: { name: 'eap-redis' } },
      postgres: { urlSecretRef: { name: 'eap-postgres' } },
    }),
  };
}

/** A chart of plain objects (the CRD, the sample): each becomes one ApiObject with its own name (no cdk8s name hashing). */
class ObjectsChart extends Chart {
  constructor(scope: Construct, id: string, objects: Array<Record<string, unknown>>) {
    super(scope, id, { disableResourceNameHashes: true });
    for (const [index, object] of objects.entries()) {
      const { apiVersion, kind, metadata, ...rest } = object as KubeManifest;
      new ApiObject(this, `${index}-${kind}-${metadata.name}`.toLowerCase(), { apiVersion, kind, metadata, ...rest });
    }
  }
}

/** Builds the app into `outdir`. */
export function synth(outdir: string): void {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART, outputFileExtension: '.k8s.yaml' });
  new ObjectsChart(app, 'eventpipeline-crd', [buildEventPipelineCrd()]);
  new OperatorInstall(new Chart(app, 'operator', { disableResourceNameHashes: true }), 'install');
  const sample = samplePipeline();
  new ObjectsChart(app, 'sample-eventpipeline', [
    {
      apiVersion: sample.apiVersion,
      kind: sample.kind,
      metadata: sample.metadata,
      spec: { redis: sample.spec.redis, postgres: sample.spec.postgres },
    },
  ]);
  const plain = new Chart(app, 'pipeline-plain', { disableResourceNameHashes: true });
  new PipelineChildren(plain, sample.metadata.name, {
    pipeline: sample,
    servingImage: imageReference(sample.spec.image),
    monitoringApis: { serviceMonitors: true, prometheusRules: true },
    assets: loadMonitoringAssets(),
    // Without the operator nothing scales the workers.
    workerReplicas: sample.spec.worker.minReplicas,
  });
  app.synth();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  synth(process.argv[2] ?? new URL('./dist', import.meta.url).pathname);
}
