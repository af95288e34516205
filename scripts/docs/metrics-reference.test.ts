import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createApiMetrics } from '../../services/api/src/metrics.ts';
import { createWorkerMetrics } from '../../services/worker/src/metrics.ts';
import { buildMetricsReference, LINUX_ONLY_DEFAULT_METRICS } from './metrics-reference.ts';

describe('metrics reference', () => {
  it('matches the committed docs/metrics.md (run `make docs` after changing a metric)', () => {
    const committed = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(committed).toBe(buildMetricsReference());
  });

  it('lists every metric the API and the worker register, with its type, labels and help', async () => {
    const doc = buildMetricsReference();
    for (const { registry } of [createApiMetrics(), createWorkerMetrics()]) {
      for (const metric of await registry.getMetricsAsJSON()) {
        const name = metric.name.replace(/^eap_(api|worker)_(?=process_|nodejs_)/, '');
        if (LINUX_ONLY_DEFAULT_METRICS.includes(name)) continue;
        const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` `));
        expect(row, metric.name).toBeDefined();
        expect(row).toContain(` ${metric.type} `);
        expect(row).toContain(metric.help);
      }
    }
    expect(doc).toMatch(/\| `eap_worker_stream_backlog_events` +\| gauge +\| `shard` /);
    expect(doc).toContain('- `eap_api_request_duration_seconds`: 0.5 ms, 1 ms, 2.5 ms,');
  });

  it.runIf(process.platform === 'linux')('names exactly the default metrics prom-client adds only on Linux', () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const names = registry.getMetricsAsArray().map((m) => m.name);
    for (const name of LINUX_ONLY_DEFAULT_METRICS) expect(names).toContain(name);
    // They stay out of the table, so the document is the same on every machine.
    for (const name of LINUX_ONLY_DEFAULT_METRICS) expect(buildMetricsReference()).not.toContain(`| \`${name}\``);
  });
});
