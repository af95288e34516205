/**
 * Versions kubeadm of the pinned Kubernetes release deploys, read from its source in the module
 * cache (cmd/kubeadm/app/constants/constants.go), so that what is built for a kind node image is
 * what that kubeadm asks for when the version pin moves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { downloadModule } from './go-modules.ts';
import { KUBERNETES } from './tool-modules.ts';

export interface KubeadmConstants {
  /** e.g. `v1.14.6`: the registry.k8s.io/coredns/coredns tag (a github.com/coredns/coredns release). */
  coreDNS: string;
  /** e.g. `3.10.2`: the registry.k8s.io/pause tag. */
  pause: string;
  /** e.g. `3.7.0-0`: the registry.k8s.io/etcd tag. */
  etcd: string;
}

/** The string constant `name = "value"` of a Go source text. */
export function goStringConstant(source: string, name: string): string {
  const value = new RegExp(`\\b${name}\\s*=\\s*"([^"]+)"`).exec(source)?.[1];
  if (value === undefined) throw new Error(`constant ${name} not found`);
  return value;
}

export async function kubeadmConstants(): Promise<KubeadmConstants> {
  const info = await downloadModule(KUBERNETES.module, KUBERNETES.version);
  const file = join(info.Dir, 'cmd', 'kubeadm', 'app', 'constants', 'constants.go');
  const source = readFileSync(file, 'utf8');
  return {
    coreDNS: goStringConstant(source, 'CoreDNSVersion'),
    pause: goStringConstant(source, 'PauseVersion'),
    etcd: goStringConstant(source, 'DefaultEtcdVersion'),
  };
}
