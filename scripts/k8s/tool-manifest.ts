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

/** The k8s-tools.ts group that builds each tool (kubectl is also part of `kind`, through `cli`). */
const BUILT_BY: Record<ToolName, string> = {
  'kube-apiserver': 'core',
  'kube-controller-manager': 'core',
  etcd: 'core',
  kubectl: 'cli',
  helm: 'cli',
  'kube-scheduler': 'kwok',
  kwok: 'kwok',
  'docker-compose': 'compose',
  prometheus: 'prometheus',
  kind: 'kind-cli',
  kubelet: 'kind',
  kubeadm: 'kind',
  'kube-proxy': 'kind',
  containerd: 'kind',
  ctr: 'kind',
  'containerd-shim-runc-v2': 'kind',
  runc: 'kind',
  crictl: 'kind',
  coredns: 'kind',
  pause: 'kind',
};

/** What to run to build `required`: one `k8s-tools.ts <group>` per group involved. */
function buildHint(required: readonly ToolName[]): string {
  const groups = [...new Set(required.map((name) => BUILT_BY[name]))];
  return `run ${groups.map((group) => `\`node scripts/k8s/k8s-tools.ts ${group}\``).join(' and ')} first`;
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
  if (!existsSync(file)) throw new Error(`Pinned tool binaries are not built (${file} is missing): ${hint}`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as ToolManifest;
  const missing = required.filter((name) => {
    const entry = manifest.tools[name];
    return entry === undefined || !existsSync(entry.path);
  });
  if (missing.length > 0) throw new Error(`Pinned tool binaries missing: ${missing.join(', ')}: ${hint}`);
  return manifest;
}

/**
 * The path of one built tool, from the manifest (throws what to run when it is not built): e.g.
 * `toolPath('docker-compose')` after `node scripts/k8s/k8s-tools.ts compose`.
 */
export function toolPath(name: ToolName): string {
  // readToolManifest has checked that the entry exists.
  return (readToolManifest([name]).tools[name] as ToolEntry).path;
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
