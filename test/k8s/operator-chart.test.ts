/**
 * The Helm chart charts/eap-operator: lint, schema-checked values, a server-side dry run of every
 * rendered object against the real API server, and the same objects as the cdk8s synthesis at
 * default values (so the two installs cannot drift).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOperatorInstall } from '@eap/manifests';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { synth } from '../../cdk8s/app.ts';
import { readToolManifest } from '../../scripts/k8s/tool-manifest.ts';
import { KubeClient } from './support/kube-client.ts';
import { createNamespace, installCrd, type Manifest, renderChart, rootPath } from './support/operator-harness.ts';

const kube = KubeClient.fromKubeconfig(inject('kubeconfig'));
const execFileAsync = promisify(execFile);
let namespace: string;
let removeNamespace: () => Promise<void>;

beforeAll(async () => {
  await installCrd(kube);
  ({ name: namespace, remove: removeNamespace } = await createNamespace(kube, 'chart'));
});
afterAll(async () => {
  await removeNamespace?.();
  kube.close();
});

const byKindAndName = (objects: Manifest[]) =>
  [...objects].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
const plural = (kind: string) => `${kind.toLowerCase()}${kind.endsWith('y') ? '' : 's'}`.replace(/ys$/, 'ies');
const pathOf = (object: Manifest) => {
  const base = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
  const scope = object.metadata.namespace ? `/namespaces/${object.metadata.namespace}` : '';
  return `${base}${scope}/${plural(object.kind)}/${object.metadata.name}`;
};

describe('Helm chart eap-operator', () => {
  it('passes helm lint --strict', async () => {
    const { helm } = readToolManifest(['helm']).tools;
    const { stdout } = await execFileAsync(helm?.path ?? 'helm', ['lint', '--strict', rootPath('charts/eap-operator')]);
    expect(stdout).toContain('0 chart(s) failed');
  });

  it('refuses values its values.schema.json does not allow', async () => {
    await expect(renderChart(namespace, ['replicaCount=0'])).rejects.toThrow(/replicaCount/);
    await expect(renderChart(namespace, ['image.pullPolicy=Sometimes'])).rejects.toThrow(/pullPolicy/);
  });

  it('renders at default values exactly what the cdk8s app synthesizes (operator.k8s.yaml of make synth)', async () => {
    const helm = await renderChart('eap-system');
    const dir = mkdtempSync(join(tmpdir(), 'eap-synth-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    synth(dir);
    const synthesized = parseAllDocuments(readFileSync(join(dir, 'operator.k8s.yaml'), 'utf8')).map((doc) => doc.toJS() as Manifest);
    expect(byKindAndName(helm)).toEqual(byKindAndName(synthesized));
  });

  it('matches the shared install module with the optional objects and settings on', async () => {
    const helm = await renderChart('ops', [
      'serviceMonitor.enabled=true',
      'serviceMonitor.labels.release=prom',
      'watchNamespace=shop',
      'replicaCount=3',
      'logLevel=debug',
    ]);
    const shared = buildOperatorInstall({
      namespace: 'ops',
      replicas: 3,
      watchNamespace: 'shop',
      logLevel: 'debug',
      serviceMonitor: { enabled: true, labels: { release: 'prom' } },
    }) as Manifest[];
    expect(byKindAndName(helm)).toEqual(byKindAndName(shared));
  });

  it('renders objects the API server accepts (server-side dry run), the sample EventPipeline included', async () => {
    const rendered = await renderChart(namespace, ['sample.enabled=true']);
    expect(rendered.map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'ClusterRole', 'EventPipeline']));
    for (const object of rendered) {
      const response = await kube.request<{ message?: string }>('PATCH', pathOf(object), object, {
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: 'helm-dry-run', dryRun: 'All', force: true },
      });
      expect(response.status, `${object.kind}/${object.metadata.name}: ${response.body.message ?? ''}`).toBeLessThan(300);
    }
  });
});
