import { Agent, request as httpsRequest } from 'node:https';
import { type KubeConnection, readKubeconfig } from './kubeconfig.ts';

/** A Kubernetes object as JSON (only the fields the tests read are typed). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }>;
    managedFields?: Array<{ manager: string; operation: string; fieldsV1?: unknown }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
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
}

/** The API answered with an unexpected status. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const message = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : JSON.stringify(body);
    super(`${method} ${path}: HTTP ${status}: ${message}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * A small Kubernetes REST client over node:https (no dependency): the admin client certificate
 * from the kubeconfig, or a bearer token (see {@link KubeClient.withToken}) instead of it.
 */
export class KubeClient {
  readonly server: string;
  private readonly connection: KubeConnection;
  private readonly agent: Agent;
  private readonly token: string | undefined;

  constructor(connection: KubeConnection, token?: string) {
    this.connection = connection;
    this.server = connection.server;
    this.token = token;
    // A bearer-token client must not also present the admin certificate (it would win).
    this.agent = token
      ? new Agent({ ca: connection.ca, keepAlive: true })
      : new Agent({ ca: connection.ca, cert: connection.cert, key: connection.key, keepAlive: true });
  }

  static fromKubeconfig(file: string): KubeClient {
    return new KubeClient(readKubeconfig(file));
  }

  /** The same server, authenticating with `token` (e.g. a ServiceAccount token). */
  withToken(token: string): KubeClient {
    return new KubeClient(this.connection, token);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sends a request and returns status and parsed body whatever the status. */
  request<T = unknown>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<KubeResponse<T>> {
    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, agent: this.agent, timeout: 30_000 }, (res) => {
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
      req.once('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.once('error', reject);
      req.end(payload);
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

  async delete(path: string, query?: RequestOptions['query']): Promise<void> {
    const response = await this.request('DELETE', path, undefined, { query });
    if (response.status !== 404 && (response.status < 200 || response.status > 299)) {
      throw new KubeApiError('DELETE', path, response.status, response.body);
    }
  }
}

/** Polls `fn` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
