/** Builds the binaries of a {@link GoToolModule} with `go build` (once; later runs reuse the cache). */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian-packages.ts';
import { downloadModule, goEnv, type ModuleInfo } from './go-modules.ts';
import { binaryPath, type GoToolModule, moduleCacheDir } from './go-tool-module.ts';
import { prepareWrapper } from './go-wrapper-module.ts';
import { elapsed, log, step } from './progress-log.ts';
import { run, versionLine } from './run-command.ts';
import type { ToolEntry, ToolName } from './tool-manifest.ts';

/** Runs `go build` for one binary, printing how many packages were compiled every 20 s. */
async function goBuild(spec: GoToolModule, info: ModuleInfo, wrapperDir: string, tool: ToolName, pkg: string): Promise<void> {
  const binDir = join(moduleCacheDir(spec), 'bin');
  mkdirSync(binDir, { recursive: true });
  const output = join(binDir, `.${tool}.partial`);
  const vars = spec.linkerVars(info);
  const ldflags = ['-s', '-w', ...Object.entries(vars).map(([key, value]) => `-X '${key}=${value}'`)].join(' ');
  const args = ['build', '-v', '-trimpath', `-ldflags=${ldflags}`, '-o', output];
  if (spec.tags && spec.tags.length > 0) args.push(`-tags=${spec.tags.join(',')}`);
  args.push(pkg);

  // cgo binaries link the machine's C libraries (e.g. runc and libseccomp); the rest are static.
  const env = goEnv(spec.cgo ? { CGO_ENABLED: '1' } : {});
  const depCount = await run('go', ['list', '-deps', pkg], { cwd: wrapperDir, env }).then(
    (result) => result.stdout.trim().split('\n').length,
    () => undefined,
  );
  let compiled = 0;
  const begin = Date.now();
  const timer = setInterval(() => {
    log(
      `  ${tool}: ${compiled} packages compiled so far${depCount ? ` (of ${depCount} in its import graph; the rest come from the build cache)` : ''}, ${elapsed(begin)}`,
    );
  }, 20_000);
  try {
    const what = `${spec.cgo ? 'CGO_ENABLED=1 ' : ''}go build -trimpath -ldflags='-s -w ...' ${pkg}`;
    await step(`${tool}: ${what}${depCount ? ` (${depCount} packages)` : ''}`, () =>
      run('go', args, {
        cwd: wrapperDir,
        env,
        nice: true,
        onStderrLine: (line) => {
          if (/^[\w.\-/]+$/.test(line)) compiled++;
        },
      }),
    );
  } finally {
    clearInterval(timer);
  }
  const version = versionLine(output, spec.versionArgs?.(tool) ?? ['--version']);
  if (version === undefined) throw new Error(`${output} was built but does not run`);
  renameSync(output, binaryPath(spec, tool));
  log(`${tool}: ${(statSync(binaryPath(spec, tool)).size / 1024 / 1024).toFixed(0)} MiB, ${compiled} packages compiled, "${version}"`);
}

/**
 * Makes sure the named binaries of `spec` exist in the cache (building the missing ones) and
 * returns their manifest entries.
 */
export async function ensureGoTools(
  spec: GoToolModule,
  tools: readonly ToolName[],
  rebuild = false,
): Promise<Partial<Record<ToolName, ToolEntry>>> {
  const entries: Partial<Record<ToolName, ToolEntry>> = {};
  const missing: ToolName[] = [];
  for (const tool of tools) {
    const path = binaryPath(spec, tool);
    const version = !rebuild && existsSync(path) ? versionLine(path, spec.versionArgs?.(tool) ?? ['--version']) : undefined;
    if (version === undefined) missing.push(tool);
    else {
      log(`${tool}: cached ${path}: ${version}`);
      entries[tool] = { path, version, source: 'built' };
    }
  }
  const files = await writeDataFiles(spec);
  if (files) for (const entry of Object.values(entries)) entry.files = files;
  if (missing.length === 0) return entries;

  if (spec.debianBuildPackages) await ensureDebianPackages(spec.debianBuildPackages, `building ${missing.join(', ')}`);
  const info = await step(`${spec.module}@${spec.version}: go mod download`, () => downloadModule(spec.module, spec.version));
  const wrapperDir = await prepareWrapper(spec, info);
  for (const tool of missing) {
    const pkg = spec.binaries[tool];
    if (pkg === undefined) throw new Error(`${spec.module} provides no ${tool}`);
    await goBuild(spec, info, wrapperDir, tool, pkg);
    const path = binaryPath(spec, tool);
    entries[tool] = {
      path,
      version: versionLine(path, spec.versionArgs?.(tool) ?? ['--version']) ?? '?',
      source: 'built',
      ...(files ? { files } : {}),
    };
  }
  return entries;
}

/** Writes (once) the data files of `spec` into its cache folder; returns name → path. */
async function writeDataFiles(spec: GoToolModule): Promise<Record<string, string> | undefined> {
  if (!spec.dataFiles) return undefined;
  const dir = moduleCacheDir(spec);
  const stamp = join(dir, 'data-files.json');
  if (existsSync(stamp)) {
    const recorded = JSON.parse(readFileSync(stamp, 'utf8')) as Record<string, string>;
    if (Object.values(recorded).every((path) => existsSync(path))) return recorded;
  }
  const info = await downloadModule(spec.module, spec.version);
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(spec.dataFiles(info))) {
    const path = join(dir, name);
    writeFileSync(path, content);
    files[name] = path;
    log(`${spec.id}: wrote ${path}`);
  }
  writeFileSync(stamp, JSON.stringify(files));
  return files;
}
