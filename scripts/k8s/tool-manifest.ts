/**
 * Pinned Kubernetes test tools (kube-apiserver, kube-controller-manager, etcd, kubectl, helm,
 * kwok), built from the Go module proxy into `.tools/k8s/<name>-<version>/` (git-ignored) and
 * reused from there on later runs. `scripts/k8s/k8s-tools.ts` is the command line; the vitest
 * global setup of the `k8s` project only calls {@link readToolManifest}.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOOLS_ROOT } from './tools-dir.ts';
import { VERSIONS } from './versions.ts';

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
