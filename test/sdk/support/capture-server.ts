import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BodyEncoding, decodeBody } from './decode-body.ts';
import { segmentSettings } from '../../../services/api/src/routes/compat/segment.routes.ts';

/** One request as a client sent it. */
export interface CapturedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  encoding: BodyEncoding;
  body: unknown;
  /** What the capture server answered. */
  status: number;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The answer a client expects on each path, so it keeps going: analytics-next's CDN settings
 * (pointing its API host back at this server), PostHog's flags and remote config, Amplitude's
 * `{"code":200}` (without it the SDK counts the send as failed), else 200 `{}`.
 */
export function defaultReply(request: { method: string; path: string }, origin: string): Reply {
  const { path } = request;
  const settings = /^\/v1\/projects\/([^/]+)\/settings$/.exec(path);
  if (settings) {
    const { host, protocol } = new URL(origin);
    return { status: 200, body: segmentSettings(settings[1]!, { host, protocol: protocol.replace(':', '') }) };
  }
  if (/^\/(flags|decide)\/?$/.test(path)) {
    return { status: 200, body: { featureFlags: {}, featureFlagPayloads: {}, flags: {}, errorsWhileComputingFlags: false } };
  }
  if (/^\/array\/[^/]+\/config(\.js)?$/.test(path)) {
    return path.endsWith('.js')
      ? { status: 200, body: '', headers: { 'content-type': 'application/javascript' } }
      : { status: 200, body: {} };
  }
  if (path === '/2/httpapi')
    return { status: 200, body: { code: 200, events_ingested: 1, payload_size_bytes: 0, server_upload_time: Date.now() } };
  return { status: 200, body: { status: 1 } };
}

function corsHeaders(request: IncomingMessage): Record<string, string> {
  const origin = request.headers.origin;
  if (origin === undefined) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': request.headers['access-control-request-headers'] ?? '*',
    'access-control-max-age': '600',
  };
}

/**
 * An HTTP server that records every request (method, path, query, headers, decoded body) and
 * answers what the client expects; `override` can answer differently (a 500 once, to see a
 * retry). Answers CORS preflights for any origin, so browser clients on another origin work.
 */
export async function startCaptureServer(options: { override?: (request: CapturedRequest) => Reply | undefined } = {}) {
  const requests: CapturedRequest[] = [];
  let origin = '';
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', origin);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : (value ?? '');
      const decoded = decodeBody(Buffer.concat(chunks), request.headers['content-type'], url.searchParams);
      const captured: CapturedRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        encoding: decoded.encoding,
        body: decoded.value,
        status: 0,
      };
      const reply = request.method === 'OPTIONS' ? { status: 204 } : (options.override?.(captured) ?? defaultReply(captured, origin));
      captured.status = reply.status;
      requests.push(captured);
      const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      response.writeHead(reply.status, {
        'content-type': 'application/json',
        ...corsHeaders(request),
        ...reply.headers,
      });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
