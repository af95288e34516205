// Writes docs/configuration.md, the reference of every environment variable of every EAP
// process, from the zod config schemas (`node scripts/generate-config-reference.ts`, part of
// `make docs`). With --check it only compares, as `make build` does; a unit test fails too when
// the committed file differs from a fresh generation.
import { buildConfigReference } from './docs/config-reference.ts';
import { writeOrCheck } from './docs/generated-file.ts';

writeOrCheck('docs/configuration.md', buildConfigReference());
