import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/** What a client needs to reach the test API server: URL, CA, and a client certificate. */
export interface KubeConnection {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

interface KubeconfigFile {
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  'current-context': string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');
const unb64 = (data: string) => Buffer.from(data, 'base64').toString('utf8');

/**
 * Writes a kubeconfig with the certificates embedded. It is JSON, which is valid YAML: kubectl,
 * helm, client-go and @kubernetes/client-node read it as a kubeconfig, and tests read it with
 * {@link readKubeconfig} without a YAML parser.
 */
export async function writeKubeconfig(
  file: string,
  options: { server: string; caFile: string; certFile: string; keyFile: string; user: string },
): Promise<void> {
  const [ca, cert, key] = await Promise.all([options.caFile, options.certFile, options.keyFile].map((path) => readFile(path, 'utf8')));
  const config: KubeconfigFile & { apiVersion: string; kind: string } = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'eap-test', cluster: { server: options.server, 'certificate-authority-data': b64(ca ?? '') } }],
    users: [{ name: options.user, user: { 'client-certificate-data': b64(cert ?? ''), 'client-key-data': b64(key ?? '') } }],
    contexts: [{ name: 'eap-test', context: { cluster: 'eap-test', user: options.user, namespace: 'default' } }],
    'current-context': 'eap-test',
  };
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** Reads a kubeconfig written by {@link writeKubeconfig} (current context). */
export function readKubeconfig(file: string): KubeConnection {
  let config: KubeconfigFile;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as KubeconfigFile;
  } catch (error) {
    throw new Error(`${file}: not a kubeconfig written by test/k8s/support/kubeconfig.ts (JSON expected)`, { cause: error });
  }
  const context = config.contexts.find((entry) => entry.name === config['current-context'])?.context;
  const cluster = config.clusters.find((entry) => entry.name === context?.cluster)?.cluster;
  const user = config.users.find((entry) => entry.name === context?.user)?.user;
  if (!cluster || !user) throw new Error(`${file}: current context has no cluster or user`);
  return {
    server: cluster.server,
    ca: unb64(cluster['certificate-authority-data']),
    cert: unb64(user['client-certificate-data']),
    key: unb64(user['client-key-data']),
  };
}
