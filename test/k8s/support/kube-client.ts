/**
 * The tests' Kubernetes client: @kubernetes/client-node, the library the operator uses. Objects
 * are named by reference ({ apiVersion, kind, name, namespace }) and go through the library's
 * KubernetesObjectApi (which maps kinds to REST paths by discovery), writes as the operator
 * sends them (operator/src/manifest-applier.ts: the object as written); subresources (/status,
 * /scale) and the odd typed call go through the library's typed clients (`kube.typed(AppsV1Api)`).
 */
import {
  type ApiConstructor,
  ApiException,
  type ApiType,
  type Configuration,
  KubeConfig,
  type KubernetesObject,
  type V1Status,
} from '@kubernetes/client-node';
import { kubeRequestConfiguration } from '../../../operator/src/kube-clients.ts';
import { ManifestApplier } from '../../../operator/src/manifest-applier.ts';

/**
 * How long one request of the tests' client may take (the library has none of its own: a request
 * sent into a dead connection waits for the HTTP stack). A poll around a request that timed out
 * asks again; a test that needs a tighter bound passes its own.
 */
export const TEST_REQUEST_TIMEOUT_MS = 20_000;

/** A Kubernetes object as JSON: the library's KubernetesObject, open to every other field. */
export type KubeObject = KubernetesObject & { [key: string]: unknown };

/** Names one object. `namespace` undefined: a cluster-scoped object. */
export interface KubeRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
}

/** The library's error for a non-2xx answer; anything else (a refused connection) is not one. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The HTTP status a request ends with: 2xx when it resolves, the error's status when the API refused it. */
export async function statusOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 200;
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === undefined) throw error;
    return status;
  }
}

/**
 * The Status object the API server refused a request with (reason, message, details.causes), from
 * the library's ApiException, whose body is the response's text; undefined for any other error.
 */
export function apiStatusOf(error: unknown): V1Status | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = error.body;
  if (body !== null && typeof body === 'object') return body as V1Status;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as V1Status;
    } catch {
      return { code: error.code, message: body };
    }
  }
  return { code: error.code };
}

/** What the API server said when it refused a request: the HTTP status and its Status object. */
export interface Refusal {
  code: number;
  reason?: string | undefined;
  message: string;
  details?: V1Status['details'];
}

/**
 * The refusal of a request that must fail (403, 409, 422…). Rejects when the request succeeds, and
 * when it fails without an answer from the API server (a refused connection is not a refusal).
 */
export async function refusalOf(request: Promise<unknown>): Promise<Refusal> {
  try {
    await request;
  } catch (error) {
    const status = apiStatusOf(error);
    if (status === undefined) throw error;
    return { code: httpStatusOf(error) ?? 0, reason: status.reason, message: status.message ?? '', details: status.details };
  }
  throw new Error('the API server accepted a request it was expected to refuse');
}

/** A kubeconfig file, loaded by the library (several files, relative paths and auth plugins included). */
export function kubeConfigFromFile(file: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(file);
  return kubeConfig;
}

/** The cluster of `base` (server and CA), authenticating with a bearer `token` and nothing else. */
export function kubeConfigWithToken(base: KubeConfig, token: string): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(cluster, { name: 'token', token });
  return kubeConfig;
}

function header(ref: KubeRef) {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
}

export class TestKube {
  readonly kubeConfig: KubeConfig;
  /** Most milliseconds one request may take. */
  readonly requestTimeoutMs: number;
  /** The request configuration of every client made here. */
  readonly configuration: Configuration;
  /** The library's KubernetesObjectApi, with the operator's writes of manifests as written. */
  readonly objects: ManifestApplier;

  constructor(kubeConfig: KubeConfig, requestTimeoutMs: number = TEST_REQUEST_TIMEOUT_MS) {
    this.kubeConfig = kubeConfig;
    this.requestTimeoutMs = requestTimeoutMs;
    this.configuration = kubeRequestConfiguration(kubeConfig, { timeoutMs: requestTimeoutMs });
    this.objects = new ManifestApplier(this.configuration);
  }

  static fromKubeconfig(file: string, requestTimeoutMs?: number): TestKube {
    return new TestKube(kubeConfigFromFile(file), requestTimeoutMs);
  }

  /** The same cluster, authenticating with `token` (e.g. a ServiceAccount's). */
  withToken(token: string): TestKube {
    return new TestKube(kubeConfigWithToken(this.kubeConfig, token), this.requestTimeoutMs);
  }

  /** One of the library's typed clients (CoreV1Api, AppsV1Api, CustomObjectsApi…) on this cluster. */
  typed<T extends ApiType>(api: ApiConstructor<T>): T {
    return new api(this.configuration);
  }

  /** Reads an object; rejects with the library's ApiException (404 included). */
  get<T extends KubernetesObject = KubeObject>(ref: KubeRef): Promise<T> {
    return this.objects.read(header(ref)) as Promise<T>;
  }

  /** Reads an object; undefined when it does not exist. */
  async find<T extends KubernetesObject = KubeObject>(ref: KubeRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** The objects of a kind (in `namespace`, or in all namespaces), optionally by label selector. */
  async list<T extends KubernetesObject = KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<T[]> {
    const list = await this.objects.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
    return list.items;
  }

  /** Creates an object, sent as written (see ManifestApplier: the library's own create drops fields). */
  create<T extends KubernetesObject = KubeObject>(object: T): Promise<T> {
    return this.objects.createAsWritten<T>(object);
  }

  /** Server-side apply as `fieldManager` (forcing conflicts by default, as a test owns its objects), sent as written. */
  apply<T extends KubernetesObject = KubeObject>(object: T, fieldManager = 'eap-tests', force = true): Promise<T> {
    return this.objects.apply<T>(object, fieldManager, force);
  }

  /** JSON merge patch (RFC 7386) of an object, sent as written. */
  mergePatch<T extends KubernetesObject = KubeObject>(ref: KubeRef, patch: Record<string, unknown>): Promise<T> {
    return this.objects.mergePatchAsWritten<T>({ ...patch, ...header(ref) } as KubernetesObject);
  }

  /** Deletes an object; a missing one is fine. */
  async delete(ref: KubeRef, options: { gracePeriodSeconds?: number; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {}) {
    try {
      await this.objects.delete(header(ref), undefined, undefined, options.gracePeriodSeconds, undefined, options.propagationPolicy);
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
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
