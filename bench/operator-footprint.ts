/**
 * The operator's footprint: how long its code takes to import, how much memory a process holds
 * once it is loaded, and what building one EventPipeline's children costs (the operator does that
 * on every reconcile). Each sample is a fresh Node process (imports are cached within one), so the
 * figures are medians over `--runs` processes. Prints JSON; with `--out FILE` writes it there too.
 *
 *   node bench/operator-footprint.ts [--runs 9] [--builds 500] [--out benchmarks/results/operator-footprint.json]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { median } from './support/statistics.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '9' }, builds: { type: 'string', default: '500' }, out: { type: 'string' } },
});
const runs = Number(values.runs);
const builds = Number(values.builds);

const entry = new URL('../operator/src/main.ts', import.meta.url).href;
const manifests = new URL('../packages/manifests/src/index.ts', import.meta.url).href;
const cdk8sApp = new URL('../cdk8s/app.ts', import.meta.url).href;

/** One sample, run in a child process: import, then memory, then `builds` builds of the sample pipeline's children. */
const sample = `
const started = performance.now();
await import(${JSON.stringify(entry)});
const importMs = performance.now() - started;
const afterImport = process.memoryUsage();
const { buildPipelineObjects, imageReference, loadMonitoringAssets } = await import(${JSON.stringify(manifests)});
const { samplePipeline } = await import(${JSON.stringify(cdk8sApp)});
const pipeline = samplePipeline();
const options = {
  servingImage: imageReference(pipeline.spec.image),
  monitoringApis: { serviceMonitors: true, prometheusRules: true },
  assets: loadMonitoringAssets(),
};
buildPipelineObjects(pipeline, options);
const buildStarted = performance.now();
for (let i = 0; i < ${builds}; i += 1) buildPipelineObjects(pipeline, options);
const buildMs = (performance.now() - buildStarted) / ${builds};
const afterBuilds = process.memoryUsage();
console.log(JSON.stringify({ importMs, rssAfterImport: afterImport.rss, heapAfterImport: afterImport.heapUsed, buildMs, rssAfterBuilds: afterBuilds.rss }));
`;

const MiB = 2 ** 20;

const samples: Array<Record<string, number>> = [];
for (let run = 0; run < runs; run += 1) {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', sample], { encoding: 'utf8' });
  samples.push(JSON.parse(output.trim().split('\n').at(-1) ?? '{}'));
}
const pick = (key: string) => median(samples.map((s) => s[key] ?? Number.NaN));
const result = {
  node: process.version,
  runs,
  buildsPerRun: builds,
  importMs: Math.round(pick('importMs')),
  rssAfterImportMiB: Number((pick('rssAfterImport') / MiB).toFixed(1)),
  heapAfterImportMiB: Number((pick('heapAfterImport') / MiB).toFixed(1)),
  buildPipelineObjectsMs: Number(pick('buildMs').toFixed(3)),
  rssAfterBuildsMiB: Number((pick('rssAfterBuilds') / MiB).toFixed(1)),
};
const json = `${JSON.stringify(result, null, 2)}\n`;
process.stdout.write(json);
if (values.out) writeFileSync(values.out, json);
