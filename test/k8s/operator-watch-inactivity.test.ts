/**
 * A watch whose connection goes silent without closing (a dead peer, a network that drops
 * packets): the operator reaches the API server through a TCP proxy written here, the proxy
 * black-holes every open connection (stops forwarding both ways and keeps them open), and with
 * WATCH_INACTIVITY_TIMEOUT_SECONDS set short the operator aborts its silent watches, opens new
 * ones (new connections pass) and sees a pipeline created after the black-hole. Without the
 * timeout the watch would wait for TCP keepalive, which a live proxy answers forever.
 */
import { createServer, type Server, type Socket, connect } from 'node:net';
import { imageReference, migrationJobName } from '@eap/manifests';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Operator } from '../../operator/src/operator.ts';
import { eventually, TestKube } from './support/kube-client.ts';
import { type OperatorNamespace, pipelineManifest, setUpOperatorNamespace, startOperatorInProcess } from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));

/** A TCP proxy to `target` that can black-hole the connections open at a moment. */
interface BlackHoleProxy {
  port: number;
  /** Stops forwarding on every open connection, in both directions, without closing any; returns how many. */
  blackHoleOpenConnections(): number;
  close(): Promise<void>;
}

async function startProxy(target: URL): Promise<BlackHoleProxy> {
  const forwarding = new Set<{ client: Socket; upstream: Socket }>();
  const held = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const pair = { client, upstream };
    forwarding.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const closeBoth = () => {
      // A black-holed connection stays open whatever its other end does.
      if (!forwarding.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', closeBoth);
      socket.on('close', closeBoth);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the proxy has no address');
  return {
    port: address.port,
    blackHoleOpenConnections() {
      const count = forwarding.size;
      for (const { client, upstream } of forwarding) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        held.add(client).add(upstream);
      }
      forwarding.clear();
      return count;
    },
    async close() {
      for (const { client, upstream } of forwarding) {
        client.destroy();
        upstream.destroy();
      }
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let setup: OperatorNamespace;
let proxy: BlackHoleProxy;
let operator: Operator | undefined;

beforeAll(async () => {
  setup = await setUpOperatorNamespace(kube, 'inactive', { startOperator: false });
  const cluster = kube.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster');
  proxy = await startProxy(new URL(cluster.server));
});

afterAll(async () => {
  await operator?.stop();
  await proxy?.close();
  await setup?.tearDown();
});

/** Watches the operator re-established for `reason`, over every watched kind (its metric). */
const watchRestarts = async (reason: string) => {
  const text = await (await fetch(`http://127.0.0.1:${operator?.metricsPort}/metrics`)).text();
  const pattern = new RegExp(`^eap_operator_watch_restarts_total\\{resource="[^"]+",reason="${reason}"\\} (\\d+)$`, 'gm');
  return [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
};

describe('watch inactivity timeout', () => {
  it('re-establishes watches whose connection went silent and sees changes made after', async () => {
    // The operator's kubeconfig points at the proxy (the server certificate is valid for 127.0.0.1).
    const base = kube.kubeConfig.getCurrentCluster();
    const viaProxy = new KubeConfig();
    viaProxy.loadFromClusterAndUser(
      { name: 'via-proxy', server: `https://127.0.0.1:${proxy.port}`, caData: base?.caData, skipTLSVerify: false },
      { name: 'operator', token: setup.token },
    );
    // Healthy watches are ended by the server after 8 s and opened again at once: never silent for 10 s.
    operator = await startOperatorInProcess(new TestKube(viaProxy), setup.namespace, { WATCH_INACTIVITY_TIMEOUT_SECONDS: '10' });
    const image = { repository: 'registry.example/eap', tag: '1.0.0' };
    const migrationJob = async (name: string) => {
      const job = migrationJobName({ metadata: { name } }, imageReference({ ...image, pullPolicy: 'IfNotPresent', pullSecrets: [] }));
      return kube.find({ apiVersion: 'batch/v1', kind: 'Job', name: job, namespace: setup.namespace });
    };
    // A first pipeline reconciled through the proxy: the operator's watches are open.
    await kube.create(pipelineManifest(setup.namespace, 'before-silence', { image }));
    await eventually('the operator to reconcile a pipeline through the proxy', () => migrationJob('before-silence'));
    expect(await watchRestarts('inactivity')).toBe(0);

    // Every connection the operator has open now goes silent, its watches among them.
    expect(proxy.blackHoleOpenConnections()).toBeGreaterThan(0);
    await kube.create(pipelineManifest(setup.namespace, 'after-silence', { image }));
    // Under the library's own 30 s inactivity timer, so only the configured timeout can pass this.
    await eventually('the operator to see the new pipeline and create its migration Job', () => migrationJob('after-silence'), 25_000);
    expect(await watchRestarts('inactivity')).toBeGreaterThan(0);
    expect(operator.isReady).toBe(true);
  });
});
