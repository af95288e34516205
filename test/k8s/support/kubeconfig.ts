import { readFile, writeFile } from 'node:fs/promises';

interface KubeconfigFile {
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  'current-context': string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

/**
 * Writes a kubeconfig with the certificates embedded. It is JSON, which is valid YAML: kubectl,
 * helm, client-go and @kubernetes/client-node (the operator's and the tests' client) read it as a
 * kubeconfig.
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
