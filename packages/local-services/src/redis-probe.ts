import { connect } from 'node:net';

/** True once `reply` holds one complete RESP reply (simple string, error, integer or bulk). */
function isCompleteReply(reply: string): boolean {
  const headerEnd = reply.indexOf('\r\n');
  if (headerEnd === -1) return false;
  if (!reply.startsWith('$')) return true;
  const length = Number(reply.slice(1, headerEnd));
  return length < 0 || Buffer.byteLength(reply) >= headerEnd + 2 + length + 2;
}

/**
 * Sends one inline command over a fresh raw TCP connection and resolves with the raw RESP
 * reply, or `undefined` on connection errors or after `timeoutMs`.
 */
function sendInlineCommand(port: number, command: string, host: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect({ host, port });
    const finish = (result: string | undefined) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (isCompleteReply(reply)) finish(reply);
    });
  });
}

/**
 * Sends `PING` over a raw TCP connection and resolves true when Redis answers `+PONG`
 * (false on errors, `-LOADING` and other replies, or after `timeoutMs`).
 */
export async function pingRedis(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  const reply = await sendInlineCommand(port, 'PING', host, timeoutMs);
  return reply?.startsWith('+PONG') ?? false;
}

/** The `process_id` from `INFO server`, to tell which process owns a port. */
export async function readRedisProcessId(port: number, timeoutMs = 1_000): Promise<number | undefined> {
  const reply = await sendInlineCommand(port, 'INFO server', '127.0.0.1', timeoutMs);
  const match = reply === undefined ? null : /^process_id:(\d+)/m.exec(reply);
  return match === null ? undefined : Number(match[1]);
}
