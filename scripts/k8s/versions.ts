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
  /**
   * The docker compose v2 CLI plugin (for containers, not the k8s tests): the newest v2 release
   * the module proxy serves (`go list -m -versions github.com/docker/compose/v2`).
   */
  compose: process.env.EAP_COMPOSE_VERSION ?? 'v2.40.3',
  /**
   * Prometheus, for the local stand-in of prom/prometheus (no image registry): the module
   * github.com/prometheus/prometheus tags release 3.X.Y as v0.30X.Y; this is 3.5.0, the version
   * docker-compose.yml and the kind demo name.
   */
  prometheus: process.env.EAP_PROMETHEUS_VERSION ?? 'v0.305.0',
  /**
   * kind (the `make kind-up` cluster): the newest release on the module proxy. Its default node
   * image is kindest/node:v1.37.0, and its kubeadm config template for 1.36+ (kubeadm v1beta4)
   * fits the pinned Kubernetes.
   */
  kind: process.env.EAP_KIND_VERSION ?? 'v0.33.0',
  // The rest is what a kind node image is made of when it has to be assembled here (no registry):
  /** Newest containerd 2 release on the module proxy (kind v0.33.0's own node image has 2.3.4). */
  containerd: process.env.EAP_CONTAINERD_VERSION ?? 'v2.4.2',
  /**
   * Newest runc 1.4 patch: the minor kind v0.33.0's node image ships (1.4.3). runc 1.5 is out, but
   * this host has cgroup v1, which runc 1.4 still supports as kind tests it.
   */
  runc: process.env.EAP_RUNC_VERSION ?? 'v1.4.4',
  /** crictl (`kind load` asks it for image ids): the release of the pinned Kubernetes minor. */
  criTools: process.env.EAP_CRI_TOOLS_VERSION ?? 'v1.37.0',
  // CoreDNS is not pinned here: the version kubeadm deploys is read from the kubernetes module
  // (cmd/kubeadm/app/constants), see scripts/k8s/kubeadm-constants.ts.
} as const;

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
