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
