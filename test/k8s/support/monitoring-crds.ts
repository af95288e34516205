import { existsSync, readFileSync } from 'node:fs';
import { loadYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { rootPath } from './operator-harness.ts';

/** The Prometheus Operator's real CRDs, when this checkout sits next to the shared test data. */
const SHARED_CRDS = rootPath('../shared/testdata/crds/');

/** A CRD as the library models it, with the name every caller needs. */
export type NamedCrd = V1CustomResourceDefinition & { metadata: { name: string } };

/**
 * The ServiceMonitor and PrometheusRule CRDs: the real ones, or minimal stand-ins of our own
 * (same names, open schemas) without the shared data. They are the library's models (read with
 * its loadYaml), not plain JSON: the library writes built-in kinds by their models' property
 * names, so a JSON schema's `x-kubernetes-preserve-unknown-fields` or `default` given as plain
 * JSON would be left out of the request.
 */
export function prometheusOperatorCrds(): NamedCrd[] {
  const files = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];
  if (files.every((file) => existsSync(`${SHARED_CRDS}${file}`))) {
    return files.map((file) => loadYaml<NamedCrd>(readFileSync(`${SHARED_CRDS}${file}`, 'utf8')));
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
            openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } },
          },
        },
      ],
    },
  }));
}
