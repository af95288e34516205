/**
 * The kind cluster configuration for machines that cannot pull kindest/node (no image registry):
 * derived at run time from the users' kind-config.yaml, for a node image assembled here
 * (kind-node-image.ts). Pure functions; scripts/containers/kind.ts decides when to use them.
 *
 * What changes, and why:
 * - one node (the control-plane, which carries the port mappings): kindnetd, kind's CNI, is an
 *   image that cannot be had here, so the node image carries a bridge CNI configuration instead,
 *   and a bridge only connects the pods of one node;
 * - `networking.disableDefaultCNI: true` (kind would apply kindnetd's manifest) and the pod subnet
 *   the bridge configuration hands out addresses from;
 * - host-dependent fixes, as kind's config patches: on a cgroup v1 host the kubelet must be told to
 *   accept it (`failCgroupV1: false`; it refuses cgroup v1 from Kubernetes 1.35 on), and where the
 *   host cannot grant CAP_SYS_RESOURCE containerd must not set pods' oom_score_adj below its own
 *   (`restrict_oom_score_adj`), else every pod fails with "failed to update
 *   /proc/self/oom_score_adj: Permission denied";
 * - everything published on the host stays on 127.0.0.1 (the API server and the port mappings).
 */
import { parse, stringify } from 'yaml';

/** The pod subnet of kind's default config; the node image's bridge CNI configuration uses it too. */
export const POD_SUBNET = '10.244.0.0/16';
export const LOOPBACK = '127.0.0.1';

export interface PortMapping {
  containerPort: number;
  hostPort?: number;
  listenAddress?: string;
  protocol?: string;
}

export interface KindNode {
  role: 'control-plane' | 'worker';
  image?: string;
  extraPortMappings?: PortMapping[];
  [key: string]: unknown;
}

export interface KindCluster {
  kind: 'Cluster';
  apiVersion: string;
  name?: string;
  nodes?: KindNode[];
  networking?: Record<string, unknown>;
  kubeadmConfigPatches?: string[];
  containerdConfigPatches?: string[];
  [key: string]: unknown;
}

/**
 * The bridge CNI configuration of the node (CNI spec 1.0.0, Debian's plugins): a Linux bridge
 * that is the pods' gateway, addresses from {@link POD_SUBNET} (host-local), masquerading of
 * traffic leaving the pod subnet, hairpin mode (a pod reaching itself through a Service), and
 * portmap for hostPort.
 */
export function bridgeCniConfig(podSubnet: string = POD_SUBNET): string {
  const config = {
    cniVersion: '1.0.0',
    name: 'eap-bridge',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podSubnet }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Facts about the host that decide the config patches of the local variant. */
export interface HostFacts {
  /** /sys/fs/cgroup/cgroup.controllers is missing: the host has cgroup v1 (or hybrid). */
  cgroupV1: boolean;
  /** Capability names (without CAP_) missing from the host's bounding set. */
  missingCapabilities: readonly string[];
}

/** The kubelet accepts a cgroup v1 host again (it refuses one by default from Kubernetes 1.35 on). */
export const KUBELET_CGROUP_V1_PATCH = 'kind: KubeletConfiguration\nfailCgroupV1: false\n';

/**
 * containerd keeps pods' oom_score_adj at or above its own instead of lowering it, which needs
 * CAP_SYS_RESOURCE (the key of kind's containerd config, version 2 format).
 */
export const CONTAINERD_OOM_SCORE_PATCH = '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n';

export function parseKindCluster(text: string): KindCluster {
  const config = parse(text) as KindCluster | null;
  if (config?.kind !== 'Cluster' || !/^kind\.x-k8s\.io\//.test(config.apiVersion ?? '')) {
    throw new Error('not a kind cluster configuration (kind: Cluster, apiVersion: kind.x-k8s.io/...)');
  }
  return config;
}

/**
 * Addresses the configuration would publish on other interfaces than the loopback: the API
 * server (`networking.apiServerAddress`, kind's default is 127.0.0.1) and port mappings without
 * `listenAddress: 127.0.0.1` (kind's default is 0.0.0.0). Empty when everything stays local.
 */
export function publicBindings(config: KindCluster): string[] {
  const problems: string[] = [];
  const apiServerAddress = config.networking?.apiServerAddress;
  if (apiServerAddress !== undefined && apiServerAddress !== LOOPBACK) problems.push(`networking.apiServerAddress is ${apiServerAddress}`);
  for (const node of config.nodes ?? []) {
    for (const mapping of node.extraPortMappings ?? []) {
      if (mapping.listenAddress !== LOOPBACK) {
        problems.push(`${node.role} port ${mapping.hostPort ?? mapping.containerPort} listens on ${mapping.listenAddress ?? '0.0.0.0'}`);
      }
    }
  }
  return problems;
}

/** The local single-node variant of `config` (see the module comment), running `nodeImage`. */
export function localClusterConfig(config: KindCluster, nodeImage: string, host: HostFacts): KindCluster {
  const controlPlane = (config.nodes ?? [{ role: 'control-plane' }]).find((node) => node.role === 'control-plane');
  if (!controlPlane) throw new Error('the kind configuration has no control-plane node');
  const podSubnet = config.networking?.podSubnet;
  if (podSubnet !== undefined && podSubnet !== POD_SUBNET) {
    throw new Error(`networking.podSubnet ${String(podSubnet)}: the local node image's bridge CNI hands out ${POD_SUBNET}`);
  }
  // The node image replaces any the user named (kindest/node cannot be pulled here).
  const { role, image: _userImage, extraPortMappings, ...rest } = controlPlane;
  const node: KindNode = {
    role,
    image: nodeImage,
    ...rest,
    ...(extraPortMappings ? { extraPortMappings: extraPortMappings.map((mapping) => ({ ...mapping, listenAddress: LOOPBACK })) } : {}),
  };
  const kubeadmPatches = [...(config.kubeadmConfigPatches ?? []), ...(host.cgroupV1 ? [KUBELET_CGROUP_V1_PATCH] : [])];
  const containerdPatches = [
    ...(config.containerdConfigPatches ?? []),
    ...(host.missingCapabilities.includes('SYS_RESOURCE') ? [CONTAINERD_OOM_SCORE_PATCH] : []),
  ];
  const derived: KindCluster = {
    ...config,
    networking: { ...config.networking, apiServerAddress: LOOPBACK, disableDefaultCNI: true, podSubnet: POD_SUBNET },
    nodes: [node],
  };
  delete derived.kubeadmConfigPatches;
  delete derived.containerdConfigPatches;
  if (kubeadmPatches.length > 0) derived.kubeadmConfigPatches = kubeadmPatches;
  if (containerdPatches.length > 0) derived.containerdConfigPatches = containerdPatches;
  return derived;
}

/** YAML text of a derived configuration, with a header saying where it comes from. */
export function renderLocalClusterConfig(config: KindCluster, source: string, host: HostFacts): string {
  const reasons = [
    'single node: no kindnetd image here, so a bridge CNI configuration baked into the node image serves the pods',
    host.cgroupV1 ? 'cgroup v1 host: kubelet failCgroupV1: false' : undefined,
    host.missingCapabilities.includes('SYS_RESOURCE') ? "no CAP_SYS_RESOURCE: containerd's restrict_oom_score_adj = true" : undefined,
  ].filter((line) => line !== undefined);
  const header = [
    `# Generated by scripts/containers/kind.ts from ${source} for a machine that cannot pull the`,
    '# kindest/node image (no image registry): the node image was assembled here. Do not edit;',
    '# it is rewritten by every `make kind-up`. Differences:',
    ...reasons.map((reason) => `# - ${reason}`),
  ];
  return `${header.join('\n')}\n${stringify(config, { lineWidth: 0 })}`;
}
