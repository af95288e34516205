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

const root = new URL('../', import.meta.url).pathname;
const fresh = mkdtempSync(join(tmpdir(), 'eap-synth-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

describe('generated Kubernetes files', () => {
  it('charts/eap-operator/crds/ holds the CRD generated from the EventPipeline zod schema (run `make docs` after changing it)', () => {
    expect(readFileSync(`${root}charts/eap-operator/crds/eventpipelines.eap.dev.yaml`, 'utf8')).toBe(crdYaml(buildEventPipelineCrd()));
  });

  it('cdk8s/dist/ matches a fresh `make synth`', () => {
    synth(fresh);
    const files = readdirSync(fresh).sort();
    expect(files).toEqual(['eventpipeline-crd.k8s.yaml', 'operator.k8s.yaml', 'pipeline-plain.k8s.yaml', 'sample-eventpipeline.k8s.yaml']);
    expect(readdirSync(`${root}cdk8s/dist`).sort()).toEqual(files);
    for (const file of files) expect(readFileSync(`${root}cdk8s/dist/${file}`, 'utf8'), file).toBe(readFileSync(join(fresh, file), 'utf8'));
  });
});
