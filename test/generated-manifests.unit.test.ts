/**
 * Generated Kubernetes files are committed and must match a fresh generation: the CRD in the Helm
 * chart (from the zod spec) and everything `make synth` writes to cdk8s/dist/.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synth } from '../cdk8s/app.ts';
import { buildEventPipelineCrd, crdYaml } from '../packages/manifests/src/index.ts';
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

  it('cdk8s/dist/ matches a fresh `make synth`', () => {
    synth(fresh);
    const files = readdirSync(fresh).sort();
    expect(files).toEqual(['eventpipeline-crd.k8s.yaml', 'operator.k8s.yaml', 'pipeline-plain.k8s.yaml', 'sample-eventpipeline.k8s.yaml']);
    expect(readdirSync(`${root}cdk8s/dist`).sort()).toEqual(files);
    for (const file of files) expect(readFileSync(`${root}cdk8s/dist/${file}`, 'utf8'), file).toBe(readFileSync(join(fresh, file), 'utf8'));
  });
});
