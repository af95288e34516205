import { KubeConfig } from '@kubernetes/client-node';

/** There is no cluster to talk to; the message says why, in one line. */
export class NoClusterError extends Error {
  override readonly name = 'NoClusterError';
}

/**
 * The operator's connection, found as kubectl finds it (the library's `loadFromDefault`): every
 * file of KUBECONFIG (`:`-separated, merged; paths inside a file relative to that file), else
 * ~/.kube/config, else the pod's ServiceAccount (its token re-read as it rotates). Exec and OIDC
 * credential plugins and a cluster's `proxy-url` work as with kubectl.
 *
 * Throws {@link NoClusterError} when none of these exists (the library would quietly fall back
 * to http://localhost:8080), a file cannot be read, or no current context names a cluster.
 */
export function loadKubeConfig(): KubeConfig {
  const env = process.env;
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new NoClusterError(`cannot read the kubeconfig (KUBECONFIG=${env.KUBECONFIG ?? ''}): ${(error as Error).message}`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new NoClusterError(
      `the kubeconfig has no usable current context (current-context: ${JSON.stringify(kubeConfig.getCurrentContext() ?? null)})`,
    );
  }
  // loadFromDefault's last resort when it found nothing at all.
  if (kubeConfig.getCurrentContext() === 'loaded-context' && cluster.server === 'http://localhost:8080') {
    throw new NoClusterError('no KUBECONFIG, no ~/.kube/config and not running in a cluster (no ServiceAccount token)');
  }
  if (cluster.name === 'inCluster' && !env.KUBERNETES_SERVICE_HOST) {
    throw new NoClusterError('a ServiceAccount token is mounted but KUBERNETES_SERVICE_HOST is unset');
  }
  return kubeConfig;
}

/** The namespace of the current context (in a pod: the pod's own), if any. */
export function contextNamespace(kubeConfig: KubeConfig): string | undefined {
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  return context?.namespace?.trim() || undefined;
}
