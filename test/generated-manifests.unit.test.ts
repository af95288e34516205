/**
 * Generated Kubernetes files: the CRD in the Helm chart and docs/eventpipeline.md are committed and
 * must match a fresh generation; `make synth` (cdk8s/dist/, a build output, not committed) must
 * produce the same CRD, a sample the spec schema accepts, and for it the objects the operator
 * applies (both synthesize the same PipelineChildren constructs).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { samplePipeline, synth } from '../cdk8s/app.ts';
import { parseAllDocuments } from 'yaml';
import {
  buildEventPipelineCrd,
  buildPipelineObjects,
  crdYaml,
  EventPipelineSpecSchema,
  imageReference,
  loadMonitoringAssets,
} from '../packages/manifests/src/index.ts';
import { eventPipelineReference } from '../scripts/docs/eventpipeline-reference.ts';

const root = new URL('../', import.meta.url).pathname;
const fresh = mkdtempSync(join(tmpdir(), 'eap-synth-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

describe('generated Kubernetes files', () => {
  it('charts/eap-operator/crds/ holds the CRD generated from the EventPipeline zod schema (run `make docs` after changing it)', () => {
    expect(readFileSync(`${root}charts/eap-operator/crds/eventpipelines.eap.dev.yaml`, 'utf8')).toBe(crdYaml(buildEventPipelineCrd()));
  });

  it('docs/eventpipeline.md documents every field of the same schema (run `make docs`)', () => {
    const reference = readFileSync(`${root}docs/eventpipeline.md`, 'utf8');
    expect(reference).toBe(eventPipelineReference());
    for (const field of [
      'spec.worker.targetBacklogPerReplica',
      'spec.monitoring.serviceMonitor.interval',
      'spec.redis.urlSecretRef.name',
    ]) {
      expect(reference).toContain(`\`${field}\``);
    }
  });

  it("`make synth` writes the chart's CRD, the operator install, a valid sample and the plain pipeline", () => {
    synth(fresh);
    const files = readdirSync(fresh).sort();
    expect(files).toEqual(['eventpipeline-crd.k8s.yaml', 'operator.k8s.yaml', 'pipeline-plain.k8s.yaml', 'sample-eventpipeline.k8s.yaml']);
    const docs = (file: string) => parseAllDocuments(readFileSync(join(fresh, file), 'utf8')).map((d) => d.toJS());
    const chartCrd = parseAllDocuments(readFileSync(`${root}charts/eap-operator/crds/eventpipelines.eap.dev.yaml`, 'utf8'))[0]?.toJS();
    expect(docs('eventpipeline-crd.k8s.yaml')).toEqual([chartCrd]);
    const [sample] = docs('sample-eventpipeline.k8s.yaml');
    expect(EventPipelineSpecSchema.safeParse(sample.spec).success).toBe(true);
    const plain = docs('pipeline-plain.k8s.yaml');
    expect(plain.map((o) => o.kind)).toEqual(expect.arrayContaining(['Job', 'Deployment', 'Service', 'PodDisruptionBudget']));
    // Without the operator nothing scales the workers: the plain worker Deployment runs minReplicas.
    const worker = plain.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-worker'));
    expect(worker.spec.replicas).toBe(EventPipelineSpecSchema.parse(sample.spec).worker.minReplicas);
    expect(plain.every((o) => o.metadata.ownerReferences === undefined)).toBe(true);
  });

  it('`make synth` writes for the sample pipeline what the operator applies for it, but for the worker replicas', () => {
    synth(fresh);
    const plain = parseAllDocuments(readFileSync(join(fresh, 'pipeline-plain.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const pipeline = samplePipeline();
    const objects = buildPipelineObjects(pipeline, {
      servingImage: imageReference(pipeline.spec.image),
      monitoringApis: { serviceMonitors: true, prometheusRules: true },
      assets: loadMonitoringAssets(),
    });
    const { migrationJob, ...groups } = objects;
    const operatorObjects = JSON.parse(JSON.stringify([migrationJob, ...Object.values(groups).flat()]));
    const worker = operatorObjects.find(
      (o: { kind: string; metadata: { name: string } }) => o.kind === 'Deployment' && o.metadata.name === 'demo-worker',
    );
    expect(worker.spec.replicas).toBeUndefined();
    worker.spec.replicas = pipeline.spec.worker.minReplicas;
    expect(plain).toEqual(operatorObjects);
  });
});
