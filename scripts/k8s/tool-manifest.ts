/**
 * Pinned Kubernetes test tools (kube-apiserver, kube-controller-manager, etcd, kubectl, helm,
 * kwok), the docker compose v2 CLI plugin (docker-compose, for containers), kind and the binaries
 * of a kind node image (for machines that cannot pull one), built from the Go
 * module proxy into `.tools/k8s/<name>-<version>/` (git-ignored) and reused from there on later
 * runs. `scripts/k8s/k8s-tools.ts` is the command line; the vitest global setup of the `k8s`
 * project only calls {@link readToolManifest}; other scripts get one binary's path with
 * {@link toolPath} (or `node scripts/k8s/tool-path.ts <tool>`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOOLS_ROOT } from './tools-dir.ts';
import { VERSIONS } from './versions.ts';

/** Binaries the tools know how to provide. */
export type ToolName =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'etcd'
  | 'helm'
  | 'kwok'
  | 'docker-compose'
  | 'prometheus'
  // The kind CLI, and what a kind node image assembled here is made of (group `kind`).
  | 'kind'
  | 'kubelet'
  | 'kubeadm'
  | 'kube-proxy'
  | 'containerd'
  | 'ctr'
  | 'containerd-shim-runc-v2'
  | 'runc'
  | 'crictl'
  | 'coredns'
  | 'pause';

/** Tools the Kubernetes test groups (core, cli, kwok) do not build. */
const KIND_TOOLS: readonly ToolName[] = [
  'kind',
  'kubelet',
  'kubeadm',
  'kube-proxy',
  'containerd',
  'ctr',
  'containerd-shim-runc-v2',
  'runc',
  'crictl',
  'coredns',
  'pause',
];

/**
 * What to run to build `required`: docker-compose is built by the `compose` group only, kind by
 * `kind-cli` and the node image's binaries by `kind`.
 */
function buildHint(required: readonly ToolName[]): string {
  const compose = required.includes('docker-compose');
  const prometheus = required.includes('prometheus');
  const kindCli = required.length === 1 && required[0] === 'kind';
  const kind = !kindCli && required.some((name) => KIND_TOOLS.includes(name));
  const k8s = required.filter((name) => name !== 'docker-compose' && name !== 'prometheus' && !KIND_TOOLS.includes(name));
  const commands: string[] = [];
  if (k8s.length > 0 || (!compose && !prometheus && !kind && !kindCli))
    commands.push(`\`make k8s-tools\` (node scripts/k8s/k8s-tools.ts ${k8s.includes('kwok') ? 'all' : 'core'})`);
  if (compose) commands.push('`node scripts/k8s/k8s-tools.ts compose`');
  if (prometheus) commands.push('`node scripts/k8s/k8s-tools.ts prometheus`');
  if (kindCli) commands.push('`node scripts/k8s/k8s-tools.ts kind-cli`');
  if (kind) commands.push('`node scripts/k8s/k8s-tools.ts kind`');
  return `run ${commands.join(' and ')} first`;
}

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
  const hint = buildHint(required);
  const what =
    required.includes('docker-compose') || required.some((name) => KIND_TOOLS.includes(name))
      ? 'Pinned tool binaries'
      : 'Kubernetes test binaries';
  if (!existsSync(file)) throw new Error(`${what} are not built (${file} is missing): ${hint}`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as ToolManifest;
  const missing = required.filter((name) => {
    const entry = manifest.tools[name];
    return entry === undefined || !existsSync(entry.path);
  });
  if (missing.length > 0) throw new Error(`${what} missing: ${missing.join(', ')}: ${hint}`);
  return manifest;
}

/**
 * The path of one built tool, from the manifest (throws what to run when it is not built): e.g.
 * `toolPath('docker-compose')` after `node scripts/k8s/k8s-tools.ts compose`.
 */
export function toolPath(name: ToolName): string {
  const entry = readToolManifest([name]).tools[name];
  if (!entry) throw new Error(`${name} is not built: ${buildHint([name])}`);
  return entry.path;
}

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
