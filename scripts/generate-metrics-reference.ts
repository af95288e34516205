// Writes docs/metrics.md, the reference of every metric the API and the worker export, from
// their prom-client registries (`node scripts/generate-metrics-reference.ts`, part of
// `make docs`). With --check it only compares, as `make build` does; a unit test fails too when
// the committed file differs from a fresh generation.
import { buildMetricsReference } from './docs/metrics-reference.ts';
import { writeOrCheck } from './docs/generated-file.ts';

writeOrCheck('docs/metrics.md', buildMetricsReference());
