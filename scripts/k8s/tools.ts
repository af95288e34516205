/**
 * Pinned Kubernetes test tools (kube-apiserver, kube-controller-manager, etcd, kubectl, helm,
 * kwok), built from the Go module proxy into `.tools/k8s/<name>-<version>/` (git-ignored) and
 * reused from there on later runs. `scripts/k8s/k8s-tools.ts` is the command line; the vitest
 * global setup of the `k8s` project only calls {@link readToolManifest}.
 *
 * Why a generated wrapper module: k8s.io/kubernetes requires its staging modules (k8s.io/api,
 * k8s.io/client-go, ...) at v0.0.0 and replaces them with ./staging/src/... folders. A module's
 * replace directives only apply when it is the main module, so `go install
 * k8s.io/kubernetes/cmd/kube-apiserver@v1.x.y` is refused. The wrapper module (main module) requires
 * k8s.io/kubernetes at the pinned version and replaces every staging module with its published
 * v0.X.Y, which is what the release was cut from.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The pinned versions. Each can be overridden with an environment variable (a new cache folder). */
export const VERSIONS = {
  /** Newest patch release of the newest stable minor served on the module proxy (1.38 is still beta). */
  kubernetes: process.env.EAP_K8S_VERSION ?? 'v1.37.2',
  /** kube-apiserver 1.37's own test harness (hack/lib/etcd.sh) requires etcd >= 3.7.0; newest 3.7 patch. */
  etcd: process.env.EAP_ETCD_VERSION ?? 'v3.7.3',
  /** Newest Helm 3 release; it is built against k8s.io/client-go v0.37, matching the API server. */
  helm: process.env.EAP_HELM_VERSION ?? 'v3.22.0',
  /** Newest kwok release. */
  kwok: process.env.EAP_KWOK_VERSION ?? 'v0.8.0',
} as const;

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const TOOLS_ROOT = process.env.EAP_K8S_TOOLS_DIR ?? join(REPO_ROOT, '.tools', 'k8s');

/** Binaries the tools know how to provide. */
export type ToolName = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl' | 'etcd' | 'helm' | 'kwok';

export interface ToolEntry {
  path: string;
  /** First line of `<tool> --version` (or `version`). */
  version: string;
  /** `built` = built here from the module proxy; `debian` = a Debian package's binary. */
  source: 'built' | 'debian';
  /** Data files that go with the binary, by file name (e.g. kwok's `stages.yaml`). */
  files?: Record<string, string>;
}

/** `.tools/k8s/manifest-<kubernetes version>.json`: where each provided binary is. */
export interface ToolManifest {
  kubernetesVersion: string;
  tools: Partial<Record<ToolName, ToolEntry>>;
}

export function manifestPath(kubernetesVersion: string = VERSIONS.kubernetes): string {
  return join(TOOLS_ROOT, `manifest-${kubernetesVersion}.json`);
}

/**
 * Reads the manifest written by `node scripts/k8s/k8s-tools.ts` and checks that the binaries
 * named in `required` are still there. Throws an error that says what to run otherwise.
 */
export function readToolManifest(required: readonly ToolName[]): ToolManifest {
  const file = manifestPath();
  const hint = `run \`make k8s-tools\` (node scripts/k8s/k8s-tools.ts ${required.includes('kwok') ? 'all' : 'core'}) first`;
  if (!existsSync(file)) throw new Error(`Kubernetes test binaries are not built (${file} is missing): ${hint}`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as ToolManifest;
  const missing = required.filter((name) => {
    const entry = manifest.tools[name];
    return entry === undefined || !existsSync(entry.path);
  });
  if (missing.length > 0) throw new Error(`Kubernetes test binaries missing: ${missing.join(', ')}: ${hint}`);
  return manifest;
}

// ---------------------------------------------------------------------------------------------
// Progress output

const startedAt = Date.now();

function elapsed(since: number = startedAt): string {
  const seconds = (Date.now() - since) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)}s` : `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}

export function log(message: string): void {
  process.stdout.write(`[k8s-tools +${elapsed()}] ${message}\n`);
}

/** Runs `fn` as a named step, printing its start and how long it took. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const begin = Date.now();
  log(`${name} ...`);
  const result = await fn();
  log(`${name}: done in ${elapsed(begin)}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Running commands

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Lower the priority (nice 10): builds share the machine with other people's tests. */
  nice?: boolean;
  /** Called with each line of stderr (go build -v prints package names there). */
  onStderrLine?: (line: string) => void;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

// The official Go tarball installs to /usr/local/go without touching PATH; find it there too.
const GO_FALLBACK_BIN = '/usr/local/go/bin';

function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const path = process.env.PATH ?? '';
  const withGo = existsSync(`${GO_FALLBACK_BIN}/go`) && !path.split(':').includes(GO_FALLBACK_BIN) ? `${path}:${GO_FALLBACK_BIN}` : path;
  // Static binaries like the upstream release builds; the machine's default module and build
  // caches (GOMODCACHE, GOCACHE) are kept so that later builds on this machine reuse them.
  return { ...process.env, PATH: withGo, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: '-buildvcs=false', ...extra };
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = options.nice && hasNice() ? ['nice', ['-n', '10', command, ...args]] : [command, [...args]];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
      if (options.onStderrLine) {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) options.onStderrLine(line);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise({ stdout, stderr });
      else {
        const tail = stderr.trim().split('\n').slice(-60).join('\n');
        reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})\n${tail}`));
      }
    });
  });
}

let niceAvailable: boolean | undefined;
function hasNice(): boolean {
  niceAvailable ??= spawnSync('nice', ['true']).status === 0;
  return niceAvailable;
}

/** First line of `<binary> <args>` output, or undefined when it does not run. */
export function versionLine(binary: string, args: readonly string[] = ['--version']): string | undefined {
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0]?.trim();
}

// ---------------------------------------------------------------------------------------------
// Versions

/** [major, minor, patch] of the first `X.Y.Z` in `text` (e.g. "3.4.23-4+b4", "etcd Version: 3.7.3"). */
export function parseVersion(text: string): [number, number, number] | undefined {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Go modules

interface ModuleInfo {
  Path: string;
  Version: string;
  /** Extracted source in the module cache. */
  Dir: string;
  /** The module's go.mod in the module cache. */
  GoMod: string;
  /** The version's commit time (used as a reproducible build date). */
  Time?: string;
  Error?: string;
}

/** `go mod download -json module@version` (a no-op when it is already in the module cache). */
export async function downloadModule(module: string, version: string): Promise<ModuleInfo> {
  mkdirSync(TOOLS_ROOT, { recursive: true });
  const { stdout } = await run('go', ['mod', 'download', '-json', `${module}@${version}`], { env: goEnv(), cwd: TOOLS_ROOT });
  const info = JSON.parse(stdout) as ModuleInfo;
  if (info.Error) throw new Error(`go mod download ${module}@${version}: ${info.Error}`);
  if (!info.Time) {
    const infoFile = join(dirname(info.GoMod), `${version}.info`);
    if (existsSync(infoFile)) info.Time = (JSON.parse(readFileSync(infoFile, 'utf8')) as { Time?: string }).Time;
  }
  return info;
}

interface ParsedGoMod {
  goVersion: string | undefined;
  godebug: string[];
  /** [old, new] pairs as written: `old [v] => new [v]`. */
  replaces: Array<[string, string]>;
  requires: Map<string, string>;
}

/** A small go.mod reader: the directives the wrapper module needs (go, godebug, require, replace). */
export function parseGoMod(text: string): ParsedGoMod {
  const parsed: ParsedGoMod = { goVersion: undefined, godebug: [], replaces: [], requires: new Map() };
  let block: string | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (block !== undefined) {
      if (line === ')') block = undefined;
      else handle(block, line);
      continue;
    }
    const open = /^(\w+)\s*\($/.exec(line);
    if (open) {
      block = open[1];
      continue;
    }
    const directive = /^(\w+)\s+(.*)$/.exec(line);
    if (directive?.[1] && directive[2] !== undefined) handle(directive[1], directive[2]);
  }
  return parsed;

  function handle(directive: string, rest: string): void {
    if (directive === 'go') parsed.goVersion = rest;
    else if (directive === 'godebug') parsed.godebug.push(rest);
    else if (directive === 'require') {
      const [path, version] = rest.split(/\s+/);
      if (path && version) parsed.requires.set(path, version);
    } else if (directive === 'replace') {
      const [from, to] = rest.split('=>').map((part) => part.trim());
      if (from && to) parsed.replaces.push([from, to]);
    }
  }
}

function isLocalPath(target: string): boolean {
  return target.startsWith('./') || target.startsWith('../') || target.startsWith('/');
}

/**
 * The replace directives the wrapper module needs so that `dependency@version` builds as it does
 * in its own repository: local ./staging/src/<module> replacements become `<module> => <module>
 * <stagingVersion>`, other local ones (e.g. etcd's "FORBIDDEN_DEPENDENCY" guards) are dropped
 * (dependents use the required versions), and module-to-module replacements are kept.
 */
export function wrapperReplaces(goMod: ParsedGoMod, stagingVersion: string | undefined): string[] {
  const lines: string[] = [];
  for (const [from, to] of goMod.replaces) {
    const fromPath = from.split(/\s+/)[0] ?? from;
    if (isLocalPath(to)) {
      const stagingModule = /^\.\/staging\/src\/(.+)$/.exec(to)?.[1];
      if (stagingModule === fromPath && stagingVersion !== undefined) lines.push(`${fromPath} => ${fromPath} ${stagingVersion}`);
    } else {
      lines.push(`${from} => ${to}`);
    }
  }
  return lines;
}

/** k8s.io/kubernetes v1.M.P[-pre] publishes its staging modules as v0.M.P[-pre]. */
export function stagingVersionOf(kubernetesVersion: string): string {
  if (!/^v1\.\d+\.\d+/.test(kubernetesVersion)) throw new Error(`not a Kubernetes release version: ${kubernetesVersion}`);
  return kubernetesVersion.replace(/^v1\./, 'v0.');
}

// ---------------------------------------------------------------------------------------------
// Building binaries from a module

export interface GoToolModule {
  /** Folder name prefix under TOOLS_ROOT. */
  id: string;
  module: string;
  version: string;
  /** Replacement version for k8s.io staging modules (only for k8s.io/kubernetes). */
  stagingVersion?: string;
  /** Binary name → package path. */
  binaries: Partial<Record<ToolName, string>>;
  tags?: readonly string[];
  /** `-X` settings for the linker. */
  linkerVars: (info: ModuleInfo) => Record<string, string>;
  /** Arguments that print the version (default `--version`). */
  versionArgs?: (tool: ToolName) => readonly string[];
  /** Data files to write next to the binaries, made from the module's source: file name → content. */
  dataFiles?: (info: ModuleInfo) => Record<string, string>;
}

export function moduleCacheDir(spec: GoToolModule): string {
  return join(TOOLS_ROOT, `${spec.id}-${spec.version}`);
}

export function binaryPath(spec: GoToolModule, tool: ToolName): string {
  return join(moduleCacheDir(spec), 'bin', tool);
}

/**
 * Writes `<cache>/wrapper/go.mod` (requiring the module, pinning its replacements, listing the
 * binaries' packages as `tool` directives so that `go mod tidy` records every checksum needed)
 * and runs `go mod tidy`. Skipped when the same go.mod and a go.sum are already there.
 */
async function prepareWrapper(spec: GoToolModule, info: ModuleInfo): Promise<string> {
  const dir = join(moduleCacheDir(spec), 'wrapper');
  const goMod = parseGoMod(readFileSync(info.GoMod, 'utf8'));
  const replaces = wrapperReplaces(goMod, spec.stagingVersion);
  const packages = Object.values(spec.binaries).sort();
  const text = [
    '// Generated by scripts/k8s/tools.ts: builds pinned binaries of a module whose replace',
    '// directives do not apply to dependents. Not committed; safe to delete.',
    `module eap.local/k8s-tools/${spec.id}`,
    '',
    `go ${goMod.goVersion ?? '1.24'}`,
    '',
    ...goMod.godebug.map((setting) => `godebug ${setting}`),
    '',
    `require ${spec.module} ${spec.version}`,
    '',
    ...(replaces.length > 0 ? ['replace (', ...replaces.map((line) => `\t${line}`), ')', ''] : []),
    'tool (',
    ...packages.map((pkg) => `\t${pkg}`),
    ')',
    '',
  ].join('\n');
  const goModFile = join(dir, 'go.mod');
  const templateFile = join(dir, 'go.mod.template');
  if (existsSync(templateFile) && readFileSync(templateFile, 'utf8') === text && existsSync(join(dir, 'go.sum'))) {
    log(`${spec.module}@${spec.version}: wrapper module up to date (${dir})`);
    return dir;
  }
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, 'go.sum'), { force: true });
  writeFileSync(goModFile, text);
  log(`${spec.module}@${spec.version}: wrapper module ${goModFile} (${replaces.length} replace directives, tools: ${packages.join(' ')})`);
  await step(`${spec.module}@${spec.version}: go mod tidy (downloads the dependencies' sources)`, () =>
    run('go', ['mod', 'tidy'], { cwd: dir, env: goEnv(), nice: true }),
  );
  writeFileSync(templateFile, text);
  return dir;
}

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

  const depCount = await run('go', ['list', '-deps', pkg], { cwd: wrapperDir, env: goEnv() }).then(
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
    await step(`${tool}: go build -trimpath -ldflags='-s -w ...' ${pkg}${depCount ? ` (${depCount} packages)` : ''}`, () =>
      run('go', args, {
        cwd: wrapperDir,
        env: goEnv(),
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

// ---------------------------------------------------------------------------------------------
// The modules

function kubernetesVersionVars(version: string, buildDate: string | undefined): Record<string, string> {
  const [, major, minor] = /^v(\d+)\.(\d+)/.exec(version) ?? [];
  const vars: Record<string, string> = {};
  // As upstream's hack/lib/version.sh does, for both packages that report versions.
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    vars[`${pkg}.gitVersion`] = version;
    if (major && minor) {
      vars[`${pkg}.gitMajor`] = major;
      vars[`${pkg}.gitMinor`] = minor;
    }
    if (buildDate) vars[`${pkg}.buildDate`] = buildDate;
  }
  return vars;
}

export const KUBERNETES: GoToolModule = {
  id: 'kubernetes',
  module: 'k8s.io/kubernetes',
  version: VERSIONS.kubernetes,
  stagingVersion: stagingVersionOf(VERSIONS.kubernetes),
  binaries: {
    'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
    'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
    'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
    kubectl: 'k8s.io/kubernetes/cmd/kubectl',
  },
  // The tags upstream's hack/lib/golang.sh uses for release (non-debug) builds.
  tags: ['selinux', 'notest', 'grpcnotrace'],
  linkerVars: (info) => kubernetesVersionVars(VERSIONS.kubernetes, info.Time?.replace(/\.\d+Z$/, 'Z')),
  versionArgs: (tool) => (tool === 'kubectl' ? ['version', '--client'] : ['--version']),
};

export const ETCD: GoToolModule = {
  id: 'etcd',
  module: 'go.etcd.io/etcd/server/v3',
  version: VERSIONS.etcd,
  // The module's root package is etcd's main (etcdmain.Main).
  binaries: { etcd: 'go.etcd.io/etcd/server/v3' },
  linkerVars: () => ({}),
};

export const HELM: GoToolModule = {
  id: 'helm',
  module: 'helm.sh/helm/v3',
  version: VERSIONS.helm,
  binaries: { helm: 'helm.sh/helm/v3/cmd/helm' },
  linkerVars: (info) => {
    const vars: Record<string, string> = {
      'helm.sh/helm/v3/internal/version.version': VERSIONS.helm,
      'helm.sh/helm/v3/internal/version.gitTreeState': 'clean',
    };
    // Helm's Makefile sets the Kubernetes version it assumes (e.g. for .Capabilities) from its client-go.
    const clientGo = parseGoMod(readFileSync(info.GoMod, 'utf8')).requires.get('k8s.io/client-go');
    const [, minor] = /^v0\.(\d+)\./.exec(clientGo ?? '') ?? [];
    if (minor) {
      for (const pkg of ['helm.sh/helm/v3/pkg/lint/rules', 'helm.sh/helm/v3/pkg/chartutil']) {
        vars[`${pkg}.k8sVersionMajor`] = '1';
        vars[`${pkg}.k8sVersionMinor`] = minor;
      }
    }
    return vars;
  },
  versionArgs: () => ['version', '--short'],
};

export const KWOK: GoToolModule = {
  id: 'kwok',
  module: 'sigs.k8s.io/kwok',
  version: VERSIONS.kwok,
  binaries: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' },
  linkerVars: () => ({
    'sigs.k8s.io/kwok/pkg/consts.Version': VERSIONS.kwok,
    'sigs.k8s.io/kwok/pkg/consts.KubeVersion': VERSIONS.kubernetes,
  }),
  versionArgs: () => ['--version'],
  // The kwok binary needs Stage objects (kwokctl embeds these defaults): nodes become Ready and
  // keep a lease, pods become Running, Job pods complete, deleted pods go away.
  dataFiles: (info) => ({
    'stages.yaml': [
      'kustomize/stage/node/fast/node-initialize.yaml',
      'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
      'kustomize/stage/pod/fast/pod-ready.yaml',
      'kustomize/stage/pod/fast/pod-complete.yaml',
      'kustomize/stage/pod/fast/pod-delete.yaml',
    ]
      .map((file) => readFileSync(join(info.Dir, file), 'utf8').trim())
      .join('\n---\n')
      .concat('\n'),
  }),
};

// ---------------------------------------------------------------------------------------------
// etcd: Debian's package when new enough, else built

const DEBIAN_ETCD = '/usr/bin/etcd';

/** The etcd version the pinned kube-apiserver's own test harness requires (hack/lib/etcd.sh). */
export async function requiredEtcdVersion(): Promise<string> {
  const info = await downloadModule(KUBERNETES.module, KUBERNETES.version);
  const script = readFileSync(join(info.Dir, 'hack', 'lib', 'etcd.sh'), 'utf8');
  const match = /ETCD_VERSION=\$\{ETCD_VERSION:-([\d.]+)\}/.exec(script);
  if (!match?.[1]) throw new Error('could not read ETCD_VERSION from k8s.io/kubernetes hack/lib/etcd.sh');
  return match[1];
}

function aptCandidate(pkg: string): string | undefined {
  const result = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  const candidate = /Candidate:\s*(\S+)/.exec(result.stdout ?? '')?.[1];
  return candidate && candidate !== '(none)' ? candidate : undefined;
}

function isAcceptable(versionText: string | undefined, minimum: string): boolean {
  const have = versionText ? parseVersion(versionText) : undefined;
  const need = parseVersion(minimum);
  return have !== undefined && need !== undefined && compareVersions(have, need) >= 0;
}

/**
 * etcd for kube-apiserver: Debian's etcd-server when its version is at least what the pinned
 * Kubernetes release requires (installed with apt-get when root and missing), otherwise etcd built
 * from go.etcd.io/etcd/server/v3 at {@link VERSIONS.etcd}.
 */
export async function ensureEtcd(rebuild = false): Promise<ToolEntry> {
  const built = binaryPath(ETCD, 'etcd');
  const builtVersion = !rebuild && existsSync(built) ? versionLine(built) : undefined;
  const debianVersion = existsSync(DEBIAN_ETCD) ? versionLine(DEBIAN_ETCD) : undefined;
  // Fast path on a warm cache: nothing to decide when only the built one is there.
  if (builtVersion !== undefined && debianVersion === undefined) {
    log(`etcd: cached ${built}: ${builtVersion}`);
    return { path: built, version: builtVersion, source: 'built' };
  }
  const minimum = await requiredEtcdVersion();
  if (isAcceptable(debianVersion, minimum)) {
    log(`etcd: Debian's ${DEBIAN_ETCD} (${debianVersion}) >= ${minimum}: using it`);
    return { path: DEBIAN_ETCD, version: debianVersion ?? '?', source: 'debian' };
  }
  if (debianVersion === undefined) {
    const candidate = aptCandidate('etcd-server');
    if (candidate && isAcceptable(candidate, minimum) && process.getuid?.() === 0) {
      await step(`etcd: apt-get install etcd-server (${candidate})`, () =>
        run('apt-get', ['install', '-y', '--no-install-recommends', 'etcd-server'], {
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        }),
      );
      return { path: DEBIAN_ETCD, version: versionLine(DEBIAN_ETCD) ?? candidate, source: 'debian' };
    }
    log(
      `etcd: Debian's etcd-server is ${candidate ?? 'not available'}; kube-apiserver ${VERSIONS.kubernetes} requires etcd >= ${minimum}` +
        ` (k8s.io/kubernetes hack/lib/etcd.sh): using etcd ${VERSIONS.etcd} built from ${ETCD.module}`,
    );
  } else {
    log(
      `etcd: ${DEBIAN_ETCD} is ${debianVersion}, older than the ${minimum} kube-apiserver ${VERSIONS.kubernetes} requires: using ${ETCD.version}`,
    );
  }
  if (!isAcceptable(ETCD.version, minimum)) throw new Error(`pinned etcd ${ETCD.version} is older than the required ${minimum}`);
  const entries = await ensureGoTools(ETCD, ['etcd'], rebuild);
  const entry = entries.etcd;
  if (!entry) throw new Error('etcd build produced nothing');
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Manifest and lock

export function writeManifest(tools: Partial<Record<ToolName, ToolEntry>>): ToolManifest {
  const file = manifestPath();
  const previous: ToolManifest = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as ToolManifest)
    : { kubernetesVersion: VERSIONS.kubernetes, tools: {} };
  const manifest: ToolManifest = { kubernetesVersion: VERSIONS.kubernetes, tools: { ...previous.tools, ...tools } };
  mkdirSync(TOOLS_ROOT, { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return manifest;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One build at a time per machine (a developer and CI may share the cache): `<TOOLS_ROOT>/.lock`. */
export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(TOOLS_ROOT, { recursive: true });
  const lockFile = join(TOOLS_ROOT, '.lock');
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (!announced) log(`waiting for another k8s-tools run (pid ${owner}) to finish ...`);
      announced = true;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
