// Writes docs/openapi.json from the zod schemas (the API serves the same document at
// /openapi.json). Committed so the API can be read without running it; a unit test fails when
// the committed copy differs from a fresh generation.
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../services/api/src/openapi.ts';

const target = new URL('../docs/openapi.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
