import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of the EAP API, for SDK retry tests. It forwards bytes both ways, and on
 * request it:
 * - `loseNextReply()`: forwards the next request, lets the API handle it, then resets the
 *   client's connection at the first byte of the reply instead of forwarding it (the client
 *   cannot know its events were accepted). Resolves when that happened.
 * - `resetNextRequest()`: resets the client's connection when the next request's first bytes
 *   arrive, forwarding nothing (the API never sees that request).
 * - `hold()` / `release(url)`: while held (the API is down), new connections wait at the proxy;
 *   `release` sends them, and all later ones, to the API at `url`.
 */
export async function startFaultProxy(initialTarget: string) {
  let target = new URL(initialTarget);
  let held: { promise: Promise<void>; release: () => void } | undefined;
  let loseReply: (() => void) | undefined;
  let resetRequest: (() => void) | undefined;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    client.pause();
    void (async () => {
      if (held !== undefined) await held.promise;
      const upstream = connect(Number(target.port), target.hostname);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.resetAndDestroy());
      client.on('close', () => upstream.destroy());
      upstream.on('data', (chunk) => {
        if (loseReply !== undefined) {
          const done = loseReply;
          loseReply = undefined;
          client.resetAndDestroy();
          upstream.destroy();
          done();
          return;
        }
        client.write(chunk);
      });
      upstream.on('end', () => client.end());
      client.on('data', (chunk) => {
        if (resetRequest !== undefined) {
          const done = resetRequest;
          resetRequest = undefined;
          client.resetAndDestroy();
          upstream.destroy();
          done();
          return;
        }
        upstream.write(chunk);
      });
      client.on('end', () => upstream.end());
      client.resume();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    loseNextReply(): Promise<void> {
      return new Promise((resolve) => {
        loseReply = resolve;
      });
    },
    resetNextRequest(): Promise<void> {
      return new Promise((resolve) => {
        resetRequest = resolve;
      });
    },
    hold(): void {
      const { promise, resolve } = Promise.withResolvers<void>();
      held = { promise, release: resolve };
    },
    release(newTarget: string): void {
      target = new URL(newTarget);
      held?.release();
      held = undefined;
    },
    close(): Promise<void> {
      held?.release();
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
