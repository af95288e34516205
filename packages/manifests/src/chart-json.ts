import { ApiObject, App, Chart } from 'cdk8s';
import type { IConstruct } from 'constructs';

/** A Kubernetes object as plain JSON. */
export type KubeManifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};

/**
 * A chart of its own app, synthesized in memory (`chart.toJson()`; nothing is written). Object
 * names are the ones given, without cdk8s's hash suffix.
 */
export function objectsChart(): Chart {
  return new Chart(new App(), 'objects', { disableResourceNameHashes: true });
}

/** Where `chart.toJson()` put each object: by apiVersion, kind and name, which are unique in a chart. */
const objectKey = (o: { apiVersion: string; kind: string; name: string }) => `${o.apiVersion}/${o.kind}/${o.name}`;

/**
 * Synthesizes `chart` once and hands back its objects grouped as `groups` groups their
 * constructs (each construct: an ApiObject, or a cdk8s-plus construct with one).
 */
export function groupedJson<G extends string>(chart: Chart, groups: Record<G, IConstruct[]>): Record<G, KubeManifest[]> {
  const byKey = new Map<string, KubeManifest>();
  for (const object of chart.toJson() as KubeManifest[]) byKey.set(objectKey({ ...object, name: object.metadata.name }), object);
  const result = {} as Record<G, KubeManifest[]>;
  for (const group of Object.keys(groups) as G[]) {
    result[group] = groups[group].map((construct) => {
      const object = byKey.get(objectKey(ApiObject.of(construct)));
      if (!object) throw new Error(`${construct.node.path} was not synthesized by its chart`);
      return object;
    });
  }
  return result;
}

/** The JSON of the one object `add` adds to a fresh chart. */
export function synthesizeOne<T extends KubeManifest = KubeManifest>(add: (scope: Chart) => IConstruct): T {
  const chart = objectsChart();
  return groupedJson(chart, { object: [add(chart)] }).object[0] as T;
}
