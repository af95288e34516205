/** The Go modules the tools are built from, at the pinned {@link VERSIONS}. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGoMod } from './go-modules.ts';
import type { GoToolModule } from './go-tool-module.ts';
import { stagingVersionOf } from './go-wrapper-module.ts';
import { VERSIONS } from './versions.ts';

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
    // For a kind node image (group `kind`), from the same wrapper module and version settings.
    kubelet: 'k8s.io/kubernetes/cmd/kubelet',
    kubeadm: 'k8s.io/kubernetes/cmd/kubeadm',
    'kube-proxy': 'k8s.io/kubernetes/cmd/kube-proxy',
  },
  // The tags upstream's hack/lib/golang.sh uses for release (non-debug) builds.
  tags: ['selinux', 'notest', 'grpcnotrace'],
  linkerVars: (info) => kubernetesVersionVars(VERSIONS.kubernetes, info.Time?.replace(/\.\d+Z$/, 'Z')),
  versionArgs: (tool) =>
    tool === 'kubectl' ? ['version', '--client'] : tool === 'kubeadm' ? ['version', '--output=short'] : ['--version'],
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

/**
 * The docker compose v2 CLI plugin. Its go.mod excludes some dependency versions, which only
 * applies to a main module (so `go install github.com/docker/compose/v2/cmd@v2.x` is refused):
 * the wrapper module repeats the excludes. Built as compose's Makefile does (`go build -trimpath
 * -ldflags "-X .../internal.Version=<version>" ./cmd`); its default `e2e` build tag selects no
 * non-test file, so no tags.
 */
export const COMPOSE: GoToolModule = {
  id: 'compose',
  module: 'github.com/docker/compose/v2',
  version: VERSIONS.compose,
  binaries: { 'docker-compose': 'github.com/docker/compose/v2/cmd' },
  linkerVars: () => ({ 'github.com/docker/compose/v2/internal.Version': VERSIONS.compose }),
  // Run directly (not as `docker compose`), the binary acts as the standalone docker-compose:
  // `docker-compose version` prints "Docker Compose version v2.x.y".
  versionArgs: () => ['version'],
};

/** Release 3.X.Y of Prometheus from its module version v0.30X.Y. */
export function prometheusRelease(moduleVersion: string): string {
  const [, minor, patch] = /^v0\.(\d+)\.(\d+)/.exec(moduleVersion) ?? [];
  if (!minor || !patch || Number(minor) < 300) throw new Error(`not a Prometheus 3 module version: ${moduleVersion}`);
  return `${Math.floor(Number(minor) / 100)}.${Number(minor) % 100}.${patch}`;
}

/**
 * Prometheus' server, with every service discovery (Debian's package lacks Kubernetes SD), for
 * the local stand-in of prom/prometheus. Without the `builtinassets` tag the web UI's assets are
 * not embedded (they are an npm build); the HTTP API, scraping and rules are all there.
 */
export const PROMETHEUS: GoToolModule = {
  id: 'prometheus',
  module: 'github.com/prometheus/prometheus',
  version: VERSIONS.prometheus,
  binaries: { prometheus: 'github.com/prometheus/prometheus/cmd/prometheus' },
  linkerVars: (info) => ({
    'github.com/prometheus/common/version.Version': prometheusRelease(VERSIONS.prometheus),
    'github.com/prometheus/common/version.Branch': 'HEAD',
    'github.com/prometheus/common/version.BuildDate': info.Time?.replace(/\.\d+Z$/, 'Z') ?? '',
  }),
  versionArgs: () => ['--version'],
};

/** The kind CLI. Its version is a constant of the source; the commit variables stay empty. */
export const KIND: GoToolModule = {
  id: 'kind',
  module: 'sigs.k8s.io/kind',
  version: VERSIONS.kind,
  binaries: { kind: 'sigs.k8s.io/kind' },
  linkerVars: () => ({}),
  versionArgs: () => ['version'],
};

/**
 * containerd 2 for a kind node image: the daemon, `ctr` (images are imported with it) and the
 * runc shim. Static pure-Go builds (the optional snapshotters that need cgo are left out with the
 * tags kind's own node image uses), with the version variables containerd's Makefile sets.
 */
export const CONTAINERD: GoToolModule = {
  id: 'containerd',
  module: 'github.com/containerd/containerd/v2',
  version: VERSIONS.containerd,
  binaries: {
    containerd: 'github.com/containerd/containerd/v2/cmd/containerd',
    ctr: 'github.com/containerd/containerd/v2/cmd/ctr',
    'containerd-shim-runc-v2': 'github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2',
  },
  tags: ['urfave_cli_no_docs', 'no_btrfs', 'no_devmapper', 'no_zfs'],
  linkerVars: () => ({
    'github.com/containerd/containerd/v2/version.Version': VERSIONS.containerd,
    'github.com/containerd/containerd/v2/version.Package': 'github.com/containerd/containerd/v2',
  }),
  versionArgs: (tool) => (tool === 'containerd-shim-runc-v2' ? ['-v'] : ['--version']),
};

/**
 * runc, built as its Makefile's default target does: cgo with the `seccomp` tag (libseccomp from
 * Debian's libseccomp-dev), dynamically linked like kind's own node image has it. Debian's runc
 * (1.1.5) is too old: with it containers failed behind `can't get final child's PID from pipe`.
 */
export const RUNC: GoToolModule = {
  id: 'runc',
  module: 'github.com/opencontainers/runc',
  version: VERSIONS.runc,
  binaries: { runc: 'github.com/opencontainers/runc' },
  tags: ['seccomp', 'urfave_cli_no_docs'],
  cgo: true,
  debianBuildPackages: ['gcc', 'libc6-dev', 'pkg-config', 'libseccomp-dev'],
  // The version comes from the embedded VERSION file; there is no git commit to record.
  linkerVars: () => ({}),
  versionArgs: () => ['--version'],
};

/** crictl: `kind load docker-image` asks it for image ids inside the node. */
export const CRI_TOOLS: GoToolModule = {
  id: 'cri-tools',
  module: 'sigs.k8s.io/cri-tools',
  version: VERSIONS.criTools,
  binaries: { crictl: 'sigs.k8s.io/cri-tools/cmd/crictl' },
  // As its Makefile: the version without the leading v.
  linkerVars: () => ({ 'sigs.k8s.io/cri-tools/pkg/version.Version': VERSIONS.criTools.replace(/^v/, '') }),
  versionArgs: () => ['--version'],
};

/** CoreDNS at `version`: the one the pinned kubeadm deploys (see kubeadm-constants.ts). */
export function corednsModule(version: string): GoToolModule {
  return {
    id: 'coredns',
    module: 'github.com/coredns/coredns',
    version,
    // The module's root package is CoreDNS's main.
    binaries: { coredns: 'github.com/coredns/coredns' },
    linkerVars: () => ({}),
    versionArgs: () => ['-version'],
  };
}
