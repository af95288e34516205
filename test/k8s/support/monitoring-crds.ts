import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { type Manifest, rootPath } from './operator-harness.ts';

/** The Prometheus Operator's real CRDs, when this checkout sits next to the shared test data. */
const SHARED_CRDS = rootPath('../shared/testdata/crds/');

/**
 * The ServiceMonitor and PrometheusRule CRDs: the real ones, or minimal stand-ins of our own
 * (same names, open schemas) without the shared data.
 */
export function prometheusOperatorCrds(): Manifest[] {
  const files = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];
  if (files.every((file) => existsSync(`${SHARED_CRDS}${file}`))) {
    return files.map((file) => parseAllDocuments(readFileSync(`${SHARED_CRDS}${file}`, 'utf8'))[0]?.toJS() as Manifest);
  }
  return [
    ['ServiceMonitor', 'servicemonitors'],
    ['PrometheusRule', 'prometheusrules'],
  ].map(([kind, plural]) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind: kind as string, plural: plural as string, listKind: `${kind}List` },
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
