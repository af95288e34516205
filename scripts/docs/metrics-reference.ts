// Builds docs/metrics.md from the prom-client registries the API and the worker create, so the
// reference lists exactly what `/metrics` exports: name, type, labels, help and buckets.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createApiMetrics } from '../../services/api/src/metrics.ts';
import { createOperatorMetrics } from '../../operator/src/metrics.ts';
import { createWorkerMetrics } from '../../services/worker/src/metrics.ts';
import { code, generatedNotice, table } from './markdown.ts';

/** A component whose admin port serves `/metrics`, and the factory of its registry. */
export interface MetricsComponent {
  /** The process, as it is started. */
  command: string;
  /** The prefix of its metric names, also given to prom-client's default metrics. */
  prefix: string;
  source: string;
  createRegistry: () => Registry;
}

export const METRICS_COMPONENTS: MetricsComponent[] = [
  { command: 'eap api', prefix: 'eap_api_', source: 'services/api/src/metrics.ts', createRegistry: () => createApiMetrics().registry },
  {
    command: 'eap worker',
    prefix: 'eap_worker_',
    source: 'services/worker/src/metrics.ts',
    createRegistry: () => createWorkerMetrics().registry,
  },
  {
    command: 'eap-operator',
    prefix: 'eap_operator_',
    source: 'operator/src/metrics.ts',
    createRegistry: () => createOperatorMetrics().registry,
  },
];

/**
 * Default metrics prom-client registers only on Linux (it reads them from /proc). They are left
 * out of the generated tables so the document is the same whatever machine generates it, and
 * named in one sentence instead: EAP's container image runs on Linux, so it exports them.
 */
export const LINUX_ONLY_DEFAULT_METRICS = ['process_open_fds', 'process_max_fds', 'process_virtual_memory_bytes', 'process_heap_bytes'];

/** What prom-client keeps on every metric object (its type declarations omit some of it). */
interface MetricObject {
  name: string;
  help: string;
  type: string;
  labelNames?: readonly string[];
  upperBounds?: readonly number[];
}

export interface MetricDoc {
  name: string;
  type: string;
  labels: string[];
  help: string;
  buckets?: readonly number[];
}

function metricsOf(registry: Registry): MetricDoc[] {
  return (registry.getMetricsAsArray() as unknown as MetricObject[]).map((m) => ({
    name: m.name,
    type: String(m.type),
    labels: [...(m.labelNames ?? [])],
    help: m.help,
    ...(m.type === 'histogram' && m.upperBounds ? { buckets: m.upperBounds } : {}),
  }));
}

/** The names prom-client's default metrics get with `prefix`, on this machine. */
function defaultMetricNames(prefix: string): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

/** A component's own metrics and the prom-client defaults it registers, split apart. */
export function componentMetrics(component: MetricsComponent): { own: MetricDoc[]; defaults: MetricDoc[] } {
  const defaults = defaultMetricNames(component.prefix);
  const all = metricsOf(component.createRegistry());
  return { own: all.filter((m) => !defaults.has(m.name)), defaults: all.filter((m) => defaults.has(m.name)) };
}

// Rounded so floating point (0.0075 * 1000) never prints 7.499999.
const seconds = (n: number) => (n < 1 ? `${Number((n * 1000).toPrecision(6))} ms` : `${n} s`);

function bucketsText(metric: MetricDoc): string {
  if (!metric.buckets) return '';
  return metric.name.endsWith('_seconds') ? metric.buckets.map(seconds).join(', ') : metric.buckets.join(', ');
}

const labelsText = (labels: string[]) => labels.map(code).join(', ');

/** The whole reference document. */
export function buildMetricsReference(components: MetricsComponent[] = METRICS_COMPONENTS): string {
  const out: string[] = [
    generatedNotice('scripts/generate-metrics-reference.ts', 'the prom-client registries of the API and the worker'),
    '',
    '# Metrics reference',
    '',
    'Every EAP process serves Prometheus metrics on its admin port (`ADMIN_PORT`, 9464 by default) at `/metrics`,',
    'next to `/livez` and `/readyz`. Names follow `eap_<component>_<what>_<unit>`, counters end in `_total`;',
    'a histogram also exports `<name>_bucket{le}`, `<name>_sum` and `<name>_count`.',
    '',
    'This page is generated from the registries the processes create (`make docs`), so it lists exactly what they',
    'export. The dashboards in `deploy/grafana/dashboards/` and the alert rules in `deploy/prometheus/alerts.yml`',
    'use only these names (a test checks it).',
  ];

  let sharedDefaults: MetricDoc[] | undefined;
  for (const component of components) {
    const { own, defaults } = componentMetrics(component);
    out.push('', `## ${code(component.command)}`, '', `Defined in \`${component.source}\`.`, '');
    out.push(
      table(
        ['metric', 'type', 'labels', 'help'],
        own.map((m) => [code(m.name), m.type, labelsText(m.labels), m.help]),
      ),
    );
    const histograms = own.filter((m) => m.buckets);
    if (histograms.length > 0) {
      out.push('', 'Histogram buckets (upper bounds):', '');
      for (const m of histograms) out.push(`- ${code(m.name)}: ${bucketsText(m)}`);
    }
    const unprefixed = defaults.map((m) => ({ ...m, name: m.name.slice(component.prefix.length) }));
    sharedDefaults ??= unprefixed;
    if (JSON.stringify(sharedDefaults) !== JSON.stringify(unprefixed))
      throw new Error(`${component.command}: its default metrics differ from the first component's; document them separately`);
  }

  const portable = (sharedDefaults ?? []).filter((m) => !LINUX_ONLY_DEFAULT_METRICS.includes(m.name));
  out.push(
    '',
    '## Process and Node.js metrics',
    '',
    "Every process also exports prom-client's default metrics, with its own prefix",
    `(${components.map((c) => code(`${c.prefix}…`)).join(', ')}): for example`,
    `${components.map((c) => code(`${c.prefix}process_resident_memory_bytes`)).join(' and ')}.`,
    `On Linux, where the container image runs, there are also ${LINUX_ONLY_DEFAULT_METRICS.map(code).join(', ')} (after the prefix).`,
    '',
    table(
      ['metric (after the prefix)', 'type', 'labels', 'help'],
      portable.map((m) => [code(m.name), m.type, labelsText(m.labels), m.help]),
    ),
    '',
  );
  return out.join('\n');
}
