import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);

/**
 * Writes a generated file, or with `--check` in `argv` only compares it: exits 1 and says which
 * command regenerates it when the committed copy differs. `make docs` writes, `make build` checks.
 */
export function writeOrCheck(relativePath: string, content: string, argv: string[] = process.argv.slice(2)): void {
  const path = fileURLToPath(new URL(relativePath, root));
  if (argv.includes('--check')) {
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current !== content) {
      console.error(`${relativePath} is stale: run \`make docs\` and commit the result`);
      process.exitCode = 1;
      return;
    }
    console.log(`${relativePath} is up to date`);
    return;
  }
  writeFileSync(path, content);
  console.log(`wrote ${relativePath}`);
}
