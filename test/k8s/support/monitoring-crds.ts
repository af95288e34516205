import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Manifest } from './operator-harness.ts';
import { rootPath } from './operator-harness.ts';

/** The Prometheus Operator's real CRDs, when this checkout sits next to the shared test data. */
const SHARED_CRDS = rootPath('../shared/testdata/crds/');

/** A CRD as plain JSON, with the name every caller needs. */
export type NamedCrd = Manifest;

/**
 * The ServiceMonitor and PrometheusRule CRDs as plain JSON (the tests' client sends objects as
 * written): the real ones, or minimal stand-ins of our own (same names, open schemas) without the
 * shared data.
 */
export function prometheusOperatorCrds(): NamedCrd[] {
  const files = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];
  if (files.every((file) => existsSync(`${SHARED_CRDS}${file}`))) {
    return files.map((file) => parse(readFileSync(`${SHARED_CRDS}${file}`, 'utf8')) as NamedCrd);
  }
  return (
    [
      ['ServiceMonitor', 'servicemonitors'],
      ['PrometheusRule', 'prometheusrules'],
    ] as const
  ).map(([kind, plural]) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, plural, listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
          },
        },
      ],
    },
  }));
}
