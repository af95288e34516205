import {
  type ApiConstructor,
  ApiException,
  type ApiType,
  AppsV1Api,
  BatchV1Api,
  type Configuration,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  type KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { ManifestApplier } from './manifest-applier.ts';

/** Names the operator's writes that are not server-side apply (status, /scale, Events, the Lease) in managedFields. */
export const OPERATOR_USER_AGENT = 'eap-operator';

/** How long one API request (not a watch) may take before it is abandoned and counted as failed. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The library's typed clients the operator uses, on one cluster. Every request carries the user
 * agent `eap-operator` and gives up after {@link REQUEST_TIMEOUT_MS} (the library has no timeout of
 * its own: a request sent into a dead connection would wait for the HTTP stack's 5 minutes).
 */
export interface KubeClients {
  kubeConfig: KubeConfig;
  /** The request configuration every client shares (also for clients made later, e.g. discovery). */
  configuration: Configuration;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  coordination: CoordinationV1Api;
  customObjects: CustomObjectsApi;
  /** Any kind by apiVersion and kind (REST mapping by discovery): reads, deletes and server-side apply of children. */
  objects: ManifestApplier;
}

/**
 * The library's request configuration for the current cluster of `kubeConfig`: every request
 * gives up after `timeoutMs`, and carries `userAgent` when given. The operator's clients and the
 * tests' client are made from it.
 */
export function kubeRequestConfiguration(kubeConfig: KubeConfig, options: { timeoutMs: number; userAgent?: string }): Configuration {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const { timeoutMs, userAgent } = options;
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [
      {
        async pre(context) {
          if (userAgent !== undefined) context.setHeaderParam('User-Agent', userAgent);
          context.setSignal(AbortSignal.timeout(timeoutMs));
          return context;
        },
        async post(response) {
          return response;
        },
      },
    ],
  });
}

export function createKubeClients(kubeConfig: KubeConfig): KubeClients {
  const configuration = kubeRequestConfiguration(kubeConfig, { timeoutMs: REQUEST_TIMEOUT_MS, userAgent: OPERATOR_USER_AGENT });
  const make = <T extends ApiType>(api: ApiConstructor<T>) => new api(configuration);
  return {
    kubeConfig,
    configuration,
    core: make(CoreV1Api),
    apps: make(AppsV1Api),
    batch: make(BatchV1Api),
    coordination: make(CoordinationV1Api),
    customObjects: make(CustomObjectsApi),
    objects: new ManifestApplier(configuration),
  };
}

/** Per-request options that send a patch as a JSON merge patch (RFC 7386); the typed clients default to JSON patch. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status the API server refused a request with; undefined when it did not answer (connection, timeout). */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  // The library's watch reports a refused watch as a plain Error with the status.
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** Runs `request`; undefined when the object does not exist (404). */
export async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    throw error;
  }
}

/**
 * What went wrong, in one line: the API server's own message when it answered (`jobs.batch is
 * forbidden: User … cannot list resource "jobs" …`), else the network error and its cause.
 */
export function describeKubeError(error: unknown): string {
  if (error instanceof ApiException) {
    let body: unknown = error.body;
    if (typeof body === 'string') {
      const text = body;
      try {
        body = JSON.parse(text);
      } catch {
        return `HTTP ${error.code}: ${text.slice(0, 300)}`;
      }
    }
    const message = (body as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : `HTTP ${error.code}`;
  }
  if (error instanceof Error) {
    const status = httpStatusOf(error);
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${status !== undefined ? `HTTP ${status} ` : ''}${error.message}${cause}`;
  }
  return String(error);
}
