import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeRequestConfiguration } from './kube-clients.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A kubeconfig for a plain-HTTP "API server" on loopback that answers with `answer`, or never. */
async function apiServer(answer: ((headers: IncomingHttpHeaders) => string) | 'never'): Promise<KubeConfig> {
  server = createServer((request, response) => {
    if (answer === 'never') return;
    response.writeHead(200, { 'content-type': 'application/json' }).end(answer(request.headers));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    { name: 'local', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    { name: 'u', token: 't' },
  );
  return kubeConfig;
}

describe('kubeRequestConfiguration', () => {
  it('gives up on a request the API server never answers', async () => {
    const core = new CoreV1Api(kubeRequestConfiguration(await apiServer('never'), { timeoutMs: 200 }));
    await expect(core.listNamespace()).rejects.toThrow(/abort|timeout/i);
  });

  it('sends the user agent it is given, and the library default without one', async () => {
    const agents: (string | undefined)[] = [];
    const kubeConfig = await apiServer((headers) => {
      agents.push(headers['user-agent']);
      return JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', items: [], metadata: {} });
    });
    await new CoreV1Api(kubeRequestConfiguration(kubeConfig, { timeoutMs: 5_000, userAgent: 'eap-operator' })).listNamespace();
    await new CoreV1Api(kubeRequestConfiguration(kubeConfig, { timeoutMs: 5_000 })).listNamespace();
    expect(agents[0]).toBe('eap-operator');
    expect(agents[1]).not.toBe('eap-operator');
  });
});
