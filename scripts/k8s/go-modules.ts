/** The `go` command's environment, `go mod download` and a small go.mod reader. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './run-command.ts';
import { TOOLS_ROOT } from './tools-dir.ts';

// The official Go tarball installs to /usr/local/go without touching PATH; find it there too.
const GO_FALLBACK_BIN = '/usr/local/go/bin';

export function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const path = process.env.PATH ?? '';
  const withGo = existsSync(`${GO_FALLBACK_BIN}/go`) && !path.split(':').includes(GO_FALLBACK_BIN) ? `${path}:${GO_FALLBACK_BIN}` : path;
  // Static binaries like the upstream release builds; the machine's default module and build
  // caches (GOMODCACHE, GOCACHE) are kept so that later builds on this machine reuse them.
  return { ...process.env, PATH: withGo, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: '-buildvcs=false', ...extra };
}

export interface ModuleInfo {
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

export interface ParsedGoMod {
  goVersion: string | undefined;
  godebug: string[];
  /** [old, new] pairs as written: `old [v] => new [v]`. */
  replaces: Array<[string, string]>;
  /** [module, version] pairs of the `exclude` directives, in file order. */
  excludes: Array<[string, string]>;
  requires: Map<string, string>;
}

/**
 * A small go.mod reader: the directives the wrapper module needs (go, godebug, require, replace,
 * exclude), in their single-line and block forms.
 */
export function parseGoMod(text: string): ParsedGoMod {
  const parsed: ParsedGoMod = { goVersion: undefined, godebug: [], replaces: [], excludes: [], requires: new Map() };
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
    } else if (directive === 'exclude') {
      const [path, version] = rest.split(/\s+/);
      if (path && version) parsed.excludes.push([path, version]);
    }
  }
}
