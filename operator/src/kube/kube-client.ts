import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { type KubeConnection, kubeconfigConnection } from './kube-config.ts';

/** A Kubernetes object as JSON (the fields every object has are typed). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion?: string; kind: string; name: string; uid: string; controller?: boolean }>;
    managedFields?: Array<{ manager: string; operation: string; fieldsV1?: unknown }>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** The API server's `Status` object for errors. */
export interface KubeStatus {
  kind: 'Status';
  status: string;
  message: string;
  reason: string;
  code: number;
  details?: { causes?: Array<{ type?: string; message?: string; field?: string }> };
}

export interface KubeResponse<T> {
  status: number;
  body: T;
}

export interface RequestOptions {
  /** Content type of the body (default application/json). */
  contentType?: string;
  query?: Record<string, string | boolean | number | undefined>;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
}

/** One event of a watch stream. */
export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** The API answered with an unexpected status. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const message = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : JSON.stringify(body);
    super(`${method} ${path}: HTTP ${status}: ${message}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.body = body;
  }
}

/**
 * A small Kubernetes REST client over node:https: requests, server-side apply, merge patches and
 * watch streams. Authenticates with a client certificate or a bearer token (a token file is
 * re-read every minute, as projected ServiceAccount tokens rotate).
 */
export class KubeClient {
  readonly server: string;
  readonly connection: KubeConnection;
  private readonly agent: Agent;
  private tokenCache: { value: string; readAt: number } | undefined;
  private readonly userAgent: string;

  constructor(connection: KubeConnection, userAgent = 'eap-operator') {
    this.connection = connection;
    this.userAgent = userAgent;
    this.server = connection.server;
    const usesToken = connection.token !== undefined || connection.tokenFile !== undefined;
    // A bearer-token client must not also present a client certificate (it would win).
    this.agent = usesToken
      ? new Agent({ ca: connection.ca, keepAlive: true })
      : new Agent({ ca: connection.ca, cert: connection.cert, key: connection.key, keepAlive: true });
  }

  static fromKubeconfig(file: string): KubeClient {
    return new KubeClient(kubeconfigConnection(file));
  }

  /** The same server, authenticating with `token` (e.g. a ServiceAccount token). */
  withToken(token: string): KubeClient {
    return new KubeClient(
      { server: this.connection.server, ca: this.connection.ca, token, namespace: this.connection.namespace },
      this.userAgent,
    );
  }

  close(): void {
    this.agent.destroy();
  }

  private bearerToken(): string | undefined {
    if (this.connection.token !== undefined) return this.connection.token;
    if (this.connection.tokenFile === undefined) return undefined;
    const now = Date.now();
    if (!this.tokenCache || now - this.tokenCache.readAt > 60_000) {
      this.tokenCache = { value: readFileSync(this.connection.tokenFile, 'utf8').trim(), readAt: now };
    }
    return this.tokenCache.value;
  }

  private send(method: string, path: string, body: unknown, options: RequestOptions, onResponse: (res: IncomingMessage) => void) {
    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    // The user agent names the manager of non-apply writes in managedFields (e.g. /scale updates).
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const token = this.bearerToken();
    if (token) headers.authorization = `Bearer ${token}`;
    const req = httpsRequest(url, { method, headers, agent: this.agent, timeout: options.timeoutMs ?? 30_000 }, onResponse);
    req.once('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
    req.end(payload);
    return req;
  }

  /**
   * Sends a request and returns status and parsed body whatever the status. A request that failed
   * because the server had closed the kept-alive socket it was sent on is sent once more on a
   * fresh one (the server never saw it).
   */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
    retried = false,
  ): Promise<KubeResponse<T>> {
    return new Promise((resolve, reject) => {
      const req = this.send(method, path, body, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json') && text !== '') {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      });
      req.once('error', (error: NodeJS.ErrnoException) => {
        if (!retried && req.reusedSocket && error.code === 'ECONNRESET') {
          this.request<T>(method, path, body, options, true).then(resolve, reject);
        } else {
          reject(error);
        }
      });
    });
  }

  /** Like {@link request} but throws {@link KubeApiError} unless the status is 2xx. */
  async ok<T = KubeObject>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    const response = await this.request<T>(method, path, body, options);
    if (response.status < 200 || response.status > 299) throw new KubeApiError(method, path, response.status, response.body);
    return response.body;
  }

  get<T = KubeObject>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.ok<T>('GET', path, undefined, { query });
  }

  /** GET that answers undefined for 404. */
  async find<T = KubeObject>(path: string): Promise<T | undefined> {
    const response = await this.request<T>('GET', path);
    if (response.status === 404) return undefined;
    if (response.status < 200 || response.status > 299) throw new KubeApiError('GET', path, response.status, response.body);
    return response.body;
  }

  create<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.ok<T>('POST', path, body);
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml; JSON is valid YAML). Returns the raw
   * response so that callers can check conflicts (409).
   */
  apply<T = KubeObject>(path: string, body: unknown, fieldManager: string, force = false): Promise<KubeResponse<T>> {
    return this.request<T>('PATCH', path, body, { contentType: 'application/apply-patch+yaml', query: { fieldManager, force } });
  }

  /** JSON merge patch (RFC 7386). */
  mergePatch<T = KubeObject>(path: string, patch: unknown, query?: RequestOptions['query']): Promise<T> {
    return this.ok<T>('PATCH', path, patch, { contentType: 'application/merge-patch+json', query });
  }

  async delete(path: string, query?: RequestOptions['query']): Promise<void> {
    const response = await this.request('DELETE', path, undefined, { query });
    if (response.status !== 404 && (response.status < 200 || response.status > 299)) {
      throw new KubeApiError('DELETE', path, response.status, response.body);
    }
  }

  /**
   * Opens a watch (`?watch=1`) and calls `onEvent` for each event until the server ends the stream,
   * `signal` aborts, or the connection fails. Resolves when the stream ends; rejects on an HTTP
   * error status or a broken connection.
   */
  watch<T = KubeObject>(
    path: string,
    query: RequestOptions['query'],
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return resolve();
      const req = this.send('GET', path, undefined, { query: { ...query, watch: 1 }, timeoutMs: 0 }, (res) => {
        if ((res.statusCode ?? 0) !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () => reject(new KubeApiError('WATCH', path, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline = buffered.indexOf('\n');
          while (newline >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line !== '') onEvent(JSON.parse(line) as WatchEvent<T>);
            newline = buffered.indexOf('\n');
          }
        });
        res.once('end', () => resolve());
        res.once('error', (error) => (signal.aborted ? resolve() : reject(error)));
      });
      const abort = () => req.destroy();
      signal.addEventListener('abort', abort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', abort));
      req.once('error', (error) => (signal.aborted ? resolve() : reject(error)));
    });
  }
}
