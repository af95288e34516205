import { createServer } from 'node:net';

/**
 * Finds a free TCP port on the loopback interface: binds `127.0.0.1:0`, reads the port the
 * kernel chose and closes the socket again. Another process may take the port before it is
 * used, so callers that start servers on it should retry on "address already in use"
 * (see {@link startOnFreePort}).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => {
        if (port === undefined) reject(new Error('could not read the port of a loopback socket'));
        else resolve(port);
      });
    });
  });
}

/**
 * Throws "Address already in use" when something already listens on 127.0.0.1:`port`, so a
 * server is not started only to fail (or, worse, so another server's answers are not taken
 * for its own).
 */
export function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'Address already in use' : error.message;
      reject(new Error(`Cannot start ${what}: 127.0.0.1:${port}: ${reason}`, { cause: error }));
    });
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve()));
  });
}

const ADDRESS_IN_USE = /address already in use/i;
const FREE_PORT_ATTEMPTS = 3;

/**
 * Calls `start(port)` with `fixedPort` when given. Otherwise picks a port with {@link freePort}
 * and, when start fails because the port was taken in the meantime (the error message says
 * "Address already in use"), tries again with a new port, up to three attempts.
 */
export async function startOnFreePort<T>(fixedPort: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (fixedPort !== undefined) return start(fixedPort);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= FREE_PORT_ATTEMPTS || !ADDRESS_IN_USE.test(message)) throw error;
    }
  }
}
