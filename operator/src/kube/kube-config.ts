import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** How to reach and authenticate to an API server. */
export interface KubeConnection {
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  ca?: string;
  /** Client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** Bearer token, or a file holding it (re-read as it rotates, like projected ServiceAccount tokens). */
  token?: string;
  tokenFile?: string;
  /** Namespace of the current context (kubeconfig) or of the pod (in cluster). */
  namespace?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's ServiceAccount connection (KUBERNETES_SERVICE_HOST/PORT, token and CA files). */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not running in a cluster (KUBERNETES_SERVICE_HOST is unset) and KUBECONFIG is not set');
  const namespaceFile = `${dir}/namespace`;
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(`${dir}/ca.crt`, 'utf8'),
    tokenFile: `${dir}/token`,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
  };
}

interface KubeconfigDocument {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }>;
  users?: Array<{
    name: string;
    user: {
      'client-certificate-data'?: string;
      'client-key-data'?: string;
      'client-certificate'?: string;
      'client-key'?: string;
      token?: string;
      tokenFile?: string;
    };
  }>;
}

const fromBase64 = (data: string) => Buffer.from(data, 'base64').toString('utf8');

/**
 * Reads the current context of a kubeconfig file (YAML or JSON): server, CA, and a client
 * certificate or a token, inline or in files. Exec and auth-provider plugins are not supported.
 */
export function kubeconfigConnection(file: string, contextName?: string): KubeConnection {
  const config = parse(readFileSync(file, 'utf8')) as KubeconfigDocument;
  const name = contextName ?? config['current-context'];
  const context = config.contexts?.find((entry) => entry.name === name)?.context;
  if (!context) throw new Error(`${file}: no context ${JSON.stringify(name)}`);
  const cluster = config.clusters?.find((entry) => entry.name === context.cluster)?.cluster;
  const user = config.users?.find((entry) => entry.name === context.user)?.user ?? {};
  if (!cluster) throw new Error(`${file}: context ${name} names an unknown cluster ${context.cluster}`);
  const fileOrData = (data?: string, path?: string) => (data ? fromBase64(data) : path ? readFileSync(path, 'utf8') : undefined);
  return {
    server: cluster.server,
    ca: fileOrData(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: fileOrData(user['client-certificate-data'], user['client-certificate']),
    key: fileOrData(user['client-key-data'], user['client-key']),
    token: user.token,
    tokenFile: user.tokenFile,
    namespace: context.namespace,
  };
}

/** KUBECONFIG when set, else the in-cluster ServiceAccount. */
export function loadConnection(env: NodeJS.ProcessEnv = process.env): KubeConnection {
  const kubeconfig = env.KUBECONFIG?.split(':')[0];
  return kubeconfig ? kubeconfigConnection(kubeconfig) : inClusterConnection(env);
}
