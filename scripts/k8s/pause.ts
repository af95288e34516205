/**
 * The pause binary of the sandbox ("pause") image: a small C program in the kubernetes module
 * (build/pause/linux/pause.c), compiled with the machine's gcc as upstream's build/pause/Makefile
 * does (static, -Os, the image tag as VERSION). Cached next to the other Kubernetes binaries.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian-packages.ts';
import { downloadModule } from './go-modules.ts';
import { moduleCacheDir } from './go-tool-module.ts';
import { log, step } from './progress-log.ts';
import { run, versionLine } from './run-command.ts';
import type { ToolEntry } from './tool-manifest.ts';
import { KUBERNETES } from './tool-modules.ts';

/** `pause -v` prints `pause.c <VERSION>`. */
const VERSION_ARGS = ['-v'];

export async function ensurePause(tag: string, rebuild = false): Promise<ToolEntry> {
  const binDir = join(moduleCacheDir(KUBERNETES), 'bin');
  const path = join(binDir, 'pause');
  const version = `v${tag}-kubernetes-${KUBERNETES.version}`;
  const cached = !rebuild && existsSync(path) ? versionLine(path, VERSION_ARGS) : undefined;
  if (cached?.endsWith(version)) {
    log(`pause: cached ${path}: ${cached}`);
    return { path, version: cached, source: 'built' };
  }
  await ensureDebianPackages(['gcc', 'libc6-dev'], 'building pause');
  const info = await downloadModule(KUBERNETES.module, KUBERNETES.version);
  const source = join(info.Dir, 'build', 'pause', 'linux', 'pause.c');
  mkdirSync(binDir, { recursive: true });
  const partial = join(binDir, '.pause.partial');
  await step(`pause: gcc -static ${source}`, () =>
    run('gcc', ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=${version}`, '-o', partial, source], { nice: true }),
  );
  const built = versionLine(partial, VERSION_ARGS);
  if (built === undefined) throw new Error(`${partial} was built but does not run`);
  renameSync(partial, path);
  return { path, version: built, source: 'built' };
}
