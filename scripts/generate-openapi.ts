// Writes docs/openapi.json from the zod schemas (the API serves the same document at
// /openapi.json). Committed so the API can be read without running it; part of `make docs`.
// With --check it only compares, as `make build` does; a unit test fails too when the committed
// copy differs from a fresh generation.
import { buildOpenApiDocument } from '../services/api/src/openapi.ts';
import { writeOrCheck } from './docs/generated-file.ts';

writeOrCheck('docs/openapi.json', `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
