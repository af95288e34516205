import type { Logger } from '@eap/core';
import { KubeApiError, type KubeClient, type KubeList, type KubeObject } from './kube-client.ts';
import { type ResourceType, resourcePath } from './resources.ts';

export type InformerHandler<T> = (type: 'added' | 'modified' | 'deleted', object: T) => void;

export interface Informer<T extends KubeObject> {
  /** Resolves after the first list has filled the cache. */
  start(): Promise<void>;
  stop(): void;
  /** The cached object `namespace/name`, or undefined. */
  get(namespace: string, name: string): T | undefined;
  list(filter?: (object: T) => boolean): T[];
  readonly synced: boolean;
}

const keyOf = (object: KubeObject) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;

/**
 * A list-and-watch cache of one kind, like client-go's informer: lists once, then watches from the
 * list's resourceVersion, resumes from the last event seen when the server ends a watch, and lists
 * again (reporting what disappeared meanwhile as deleted) when the version has expired (410) or
 * the connection fails.
 */
export function createInformer<T extends KubeObject>(options: {
  kube: KubeClient;
  resource: ResourceType;
  /** Undefined: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  logger: Logger;
  onEvent: InformerHandler<T>;
}): Informer<T> {
  const { kube, resource, logger } = options;
  const path = resourcePath(resource, options.namespace);
  const cache = new Map<string, T>();
  const controller = new AbortController();
  let synced = false;
  let resourceVersion = '';
  let firstSync: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  async function listAll(): Promise<void> {
    const list = await kube.get<KubeList<T>>(path, { labelSelector: options.labelSelector });
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      seen.add(key);
      const before = cache.get(key);
      cache.set(key, item);
      if (!before) options.onEvent('added', item);
      else if (before.metadata?.resourceVersion !== item.metadata?.resourceVersion) options.onEvent('modified', item);
    }
    for (const [key, item] of cache) {
      if (!seen.has(key)) {
        cache.delete(key);
        options.onEvent('deleted', item);
      }
    }
    resourceVersion = list.metadata?.resourceVersion ?? '';
    synced = true;
  }

  async function watchOnce(): Promise<'expired' | 'ended'> {
    let expired = false;
    await kube.watch<T>(
      path,
      { labelSelector: options.labelSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 240 },
      (event) => {
        if (event.type === 'ERROR') {
          const status = event.object as unknown as { code?: number };
          if (status.code === 410) expired = true;
          return;
        }
        const version = event.object.metadata?.resourceVersion;
        if (version) resourceVersion = version;
        if (event.type === 'BOOKMARK') return;
        const key = keyOf(event.object);
        if (event.type === 'DELETED') {
          cache.delete(key);
          options.onEvent('deleted', event.object);
        } else {
          cache.set(key, event.object);
          options.onEvent(event.type === 'ADDED' ? 'added' : 'modified', event.object);
        }
      },
      controller.signal,
    );
    return expired ? 'expired' : 'ended';
  }

  async function run(): Promise<void> {
    let needList = true;
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        if (needList) {
          await listAll();
          firstSync?.resolve();
          firstSync = undefined;
          needList = false;
        }
        const outcome = await watchOnce();
        failures = 0;
        if (outcome === 'expired') needList = true;
      } catch (error) {
        if (controller.signal.aborted) return;
        failures++;
        needList = true;
        const forbidden = error instanceof KubeApiError && (error.status === 403 || error.status === 401);
        logger.warn(
          { err: error, resource: resource.plural, failures },
          forbidden ? 'not allowed to list or watch' : 'list/watch failed; retrying',
        );
        const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  return {
    start() {
      const ready = new Promise<void>((resolve, reject) => {
        firstSync = { resolve, reject };
      });
      void run();
      return ready;
    },
    stop() {
      controller.abort();
      firstSync?.resolve();
    },
    get(namespace, name) {
      return cache.get(`${namespace}/${name}`);
    },
    list(filter) {
      const all = [...cache.values()];
      return filter ? all.filter(filter) : all;
    },
    get synced() {
      return synced;
    },
  };
}
