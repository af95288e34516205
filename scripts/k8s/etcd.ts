/** etcd: Debian's package when new enough, else built. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureGoTools } from './go-build.ts';
import { downloadModule } from './go-modules.ts';
import { binaryPath } from './go-tool-module.ts';
import { log, step } from './progress-log.ts';
import { run, versionLine } from './run-command.ts';
import type { ToolEntry } from './tool-manifest.ts';
import { ETCD, KUBERNETES } from './tool-modules.ts';
import { compareVersions, parseVersion, VERSIONS } from './versions.ts';

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
