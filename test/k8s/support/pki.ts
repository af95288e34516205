import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Files of a throwaway PKI for one test cluster (all PEM). */
export interface ClusterPki {
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  /** Client certificate in group system:masters (cluster admin, bypasses RBAC). */
  adminCert: string;
  adminKey: string;
  /** Client certificate of user system:kube-controller-manager (RBAC bootstrap role of that name). */
  controllerManagerCert: string;
  controllerManagerKey: string;
  /** Service-account token signing key pair. */
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const OPENSSL_CONFIG = (altNames: string) => `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${altNames}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

/** The names the API server's certificate is valid for (it only listens on 127.0.0.1). */
export function apiserverAltNames(serviceIp: string): string {
  const dns = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  return [`IP:127.0.0.1`, `IP:${serviceIp}`, ...dns.map((name) => `DNS:${name}`)].join(',');
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir, timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

/** `openssl req -x509` making a P-256 key and a certificate signed by the CA (or self-signed for `ca`). */
function certificateArgs(extensions: 'ca' | 'server' | 'client', subject: string, name: string, signedByCa: boolean): string[] {
  return [
    'req',
    '-x509',
    '-config',
    'openssl.cnf',
    '-extensions',
    extensions,
    ...(signedByCa ? ['-CA', 'ca.crt', '-CAkey', 'ca.key'] : []),
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '7',
    '-subj',
    subject,
  ];
}

/**
 * Generates a CA, the API server's serving certificate, client certificates and the
 * service-account signing key in `dir` with openssl (certificates) and node:crypto (RSA key).
 */
export async function generateClusterPki(dir: string, serviceIp: string): Promise<ClusterPki> {
  await writeFile(join(dir, 'openssl.cnf'), OPENSSL_CONFIG(apiserverAltNames(serviceIp)));
  const serviceAccount = promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }).then(async ({ privateKey, publicKey }) => {
    await writeFile(join(dir, 'service-account.key'), privateKey, { mode: 0o600 });
    await writeFile(join(dir, 'service-account.pub'), publicKey);
  });
  await openssl(dir, certificateArgs('ca', '/CN=eap-k8s-test-ca', 'ca', false));
  await Promise.all([
    openssl(dir, certificateArgs('server', '/CN=kube-apiserver', 'apiserver', true)),
    openssl(dir, certificateArgs('client', '/O=system:masters/CN=eap-test-admin', 'admin', true)),
    openssl(dir, certificateArgs('client', '/CN=system:kube-controller-manager', 'controller-manager', true)),
    serviceAccount,
  ]);
  const file = (name: string) => join(dir, name);
  return {
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    apiserverCert: file('apiserver.crt'),
    apiserverKey: file('apiserver.key'),
    adminCert: file('admin.crt'),
    adminKey: file('admin.key'),
    controllerManagerCert: file('controller-manager.crt'),
    controllerManagerKey: file('controller-manager.key'),
    serviceAccountKey: file('service-account.key'),
    serviceAccountPub: file('service-account.pub'),
  };
}
