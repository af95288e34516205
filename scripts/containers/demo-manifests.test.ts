import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { demoManifests } from './demo-manifests.ts';

interface Workload {
  kind: string;
  metadata: { name: string };
  spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image: string }> } } };
}

const workloads = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((document) => document.toJS() as Workload)
    .filter((object) => object.kind === 'Deployment');
const imagesOf = (yaml: string) =>
  Object.fromEntries(workloads(yaml).map((d) => [d.metadata.name, d.spec?.template?.spec?.containers?.map((c) => c.image).join(',')]));

describe('the kind demo manifests', () => {
  it('keep the public images where the machine has them', () => {
    const { yaml, images } = demoManifests({});
    expect(imagesOf(yaml)).toMatchObject({ redis: 'redis:7.4-alpine', postgres: 'postgres:17-alpine' });
    expect(workloads(yaml).find((d) => d.metadata.name === 'grafana')?.spec?.replicas).toBe(1);
    expect(images).toEqual([]);
    // Strings stay strings for kubectl's YAML 1.1 reader (redis' `--appendonly yes`).
    expect(yaml).toContain('"yes"');
  });

  it("use this machine's stand-ins, list them for kind-load, and leave Grafana out when it has no image", () => {
    const { yaml, images } = demoManifests({
      NODE_IMAGE: 'eap-local/node:24-slim',
      REDIS_IMAGE: 'eap-local/redis:7',
      POSTGRES_IMAGE: 'eap-local/postgres:15',
      PROMETHEUS_IMAGE: 'eap-local/prometheus:2',
      GRAFANA_REPLICAS: '0',
    });
    expect(imagesOf(yaml)).toMatchObject({
      redis: 'eap-local/redis:7',
      postgres: 'eap-local/postgres:15',
      prometheus: 'eap-local/prometheus:2',
    });
    expect(workloads(yaml).find((d) => d.metadata.name === 'grafana')?.spec?.replicas).toBe(0);
    expect(images).toEqual(['eap-local/postgres:15', 'eap-local/prometheus:2', 'eap-local/redis:7']);
    // Everything else is applied as written: the same objects in the same order.
    expect(parseAllDocuments(yaml).map((d) => `${d.get('kind')}/${(d.toJS() as Workload).metadata.name}`)).toEqual(
      parseAllDocuments(demoManifests({}).yaml).map((d) => `${d.get('kind')}/${(d.toJS() as Workload).metadata.name}`),
    );
  });
});
