import type { Logger } from '@eap/core';
import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import { describeKubeError, httpStatusOf } from './kube-clients.ts';
import type { WatchedResource } from './watched-resources.ts';

export type InformerEvent = 'added' | 'modified' | 'deleted';

/** Why an informer gave up: it never synced, or could not list or watch for too long after. */
export interface SyncFailure {
  resource: string;
  kind: 'first-sync' | 'lost-sync';
  /** One line naming the resource and the API server's last answer. */
  message: string;
}

export interface ResourceInformer<T extends KubernetesObject> {
  readonly resource: string;
  /** Lists and watches; resolves once the cache is filled the first time, or when it gives up or is stopped. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The cached object `namespace/name`, or undefined. */
  get(namespace: string, name: string): T | undefined;
  list(filter?: (object: T) => boolean): T[];
  /** The first list has filled the cache. */
  readonly synced: boolean;
}

/** What a watch reports to its informer. */
interface WatchObserver {
  /** A watch is being opened: the list before it (if any) has filled the cache. */
  opening(): void;
  /** The API server answered the watch (200), sent an event or bookmark, or ended the stream cleanly. */
  answered(): void;
  /** The watch was refused or broke, or the inactivity timeout aborted it. */
  failed(error: unknown): void;
}

/**
 * The library's Watch, with two changes: it asks the server for bookmarks and to end the watch
 * after `serverTimeoutSeconds` (80 % of the inactivity timeout), so a healthy watch is never
 * silent for long; and the library's own inactivity timer (30 s by default, reset by every byte
 * received) is set to `inactivityTimeoutMs`, so a connection that went silent (a dead peer, a
 * black-holing network) is aborted and re-established then, rather than when TCP keepalive
 * notices minutes later. Reports every answer to its observer for the informer's health.
 */
class BookmarkingWatch extends Watch {
  readonly #serverTimeoutSeconds: number;
  readonly #observer: WatchObserver;

  constructor(kubeConfig: KubeConfig, inactivityTimeoutMs: number, observer: WatchObserver) {
    super(kubeConfig);
    if (!Object.hasOwn(this, 'requestTimeoutMs')) {
      throw new Error('this @kubernetes/client-node Watch has no requestTimeoutMs: the watch inactivity timeout cannot be set');
    }
    Reflect.set(this, 'requestTimeoutMs', inactivityTimeoutMs);
    this.#serverTimeoutSeconds = Math.max(1, Math.floor((inactivityTimeoutMs / 1000) * 0.8));
    this.#observer = observer;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const observer = this.#observer;
    observer.opening();
    let failed = false;
    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.#serverTimeoutSeconds },
      (phase, apiObj, watchObj) => {
        observer.answered();
        callback(phase, apiObj, watchObj);
      },
      (error: unknown) => {
        if (error === null || error === undefined) {
          observer.answered();
        } else {
          failed = true;
          observer.failed(error);
        }
        done(error);
      },
    );
    // The library resolves once the response headers are in; a refused or failed watch has called done first.
    if (!failed) observer.answered();
    return controller;
  }
}

const isInactivityTimeout = (error: unknown) => (error as { name?: unknown } | null)?.name === 'TimeoutError';

/**
 * A list-and-watch cache of one kind: the library's ListWatch (which relists on 410 Gone and
 * re-watches from the last resourceVersion when a watch ends), made to last:
 * - it stops for good on any other error (a refused list, a refused or broken watch): restarted
 *   here with exponential backoff (0.5 s doubling to 30 s);
 * - watches carry the inactivity timeout of {@link BookmarkingWatch};
 * - the first sync has a deadline, and after it an informer that cannot list or watch for as long
 *   gives up: `onSyncFailed` is called once with the API server's last answer, so the operator can
 *   stop rather than reconcile from a cache that no longer follows the cluster.
 */
export function createResourceInformer<T extends KubernetesObject>(options: {
  kubeConfig: KubeConfig;
  resource: WatchedResource<T>;
  logger: Logger;
  onEvent: (type: InformerEvent, object: T) => void;
  syncTimeoutMs: number;
  inactivityTimeoutMs: number;
  onSyncFailed: (failure: SyncFailure) => void;
  /** A watch ended by an error or by the inactivity timeout and is being re-established. */
  onWatchRestart?: (reason: 'error' | 'inactivity') => void;
}): ResourceInformer<T> {
  const { resource, logger } = options;
  const name = resource.name;
  let synced = false;
  let stopped = false;
  let gaveUp = false;
  let startedAt = 0;
  let failingSince: number | undefined;
  /** The API server's last refusal, or what else went wrong last, in one line. */
  let lastAnswer: string | undefined;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  let resolveStarted: () => void = () => {};

  const answered = () => {
    failingSince = undefined;
    restarts = 0;
  };
  const failed = (answer: string) => {
    if (stopped) return;
    failingSince ??= Date.now();
    lastAnswer = answer;
  };
  const markSynced = () => {
    if (synced) return;
    synced = true;
    resolveStarted();
  };

  const watch = new BookmarkingWatch(options.kubeConfig, options.inactivityTimeoutMs, {
    // The ListWatch opens a watch only once its list has filled the cache (or to resume from a version).
    opening: markSynced,
    answered,
    failed(error) {
      if (stopped) return;
      if (httpStatusOf(error) === 410) return; // expired resourceVersion: the ListWatch lists again
      // The library keeps only the status of a refused watch, not the server's message.
      if (isInactivityTimeout(error)) failed(`the watch received nothing for ${options.inactivityTimeoutMs / 1000} s`);
      else if (httpStatusOf(error) !== undefined) failed(`the watch was refused: ${describeKubeError(error)}`);
      else failed(`the watch failed: ${describeKubeError(error)}`);
      if (isInactivityTimeout(error)) {
        logger.warn(
          { resource: name, timeoutSeconds: options.inactivityTimeoutMs / 1000 },
          'watch received nothing (no event, no bookmark) within the inactivity timeout; re-establishing it',
        );
        options.onWatchRestart?.('inactivity');
      }
    },
  });
  const listWatch = new ListWatch<T>(
    resource.path,
    watch,
    async () => {
      // A list that succeeds does not clear a failure: only a working watch does (a ServiceAccount
      // allowed to list but not to watch must not look healthy).
      try {
        return await resource.list();
      } catch (error) {
        failed(describeKubeError(error));
        throw error;
      }
    },
    false,
    resource.labelSelector,
  );
  listWatch.on('add', (object) => options.onEvent('added', object));
  listWatch.on('update', (object) => options.onEvent('modified', object));
  listWatch.on('delete', (object) => options.onEvent('deleted', object));
  listWatch.on('error', (error: unknown) => {
    if (stopped || gaveUp) return;
    restarts++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts - 1, 6));
    logger.warn(
      { resource: name, failures: restarts, retryInMs: delay, answer: lastAnswer ?? describeKubeError(error) },
      httpStatusOf(error) === 403 || httpStatusOf(error) === 401 ? 'not allowed to list or watch' : 'list/watch failed; retrying',
    );
    options.onWatchRestart?.('error');
    restartTimer = setTimeout(run, delay);
  });

  function run(): void {
    if (stopped || gaveUp) return;
    listWatch.start().catch((error: unknown) => {
      // Thrown before any request was made (e.g. no current cluster): treated like a failed list.
      failed(describeKubeError(error));
      if (!stopped) restartTimer = setTimeout(run, 1000);
    });
  }

  function giveUp(kind: SyncFailure['kind'], seconds: number): void {
    gaveUp = true;
    clearInterval(healthTimer);
    clearTimeout(restartTimer);
    void listWatch.stop();
    const answer = lastAnswer ?? 'no answer from the API server';
    const message =
      kind === 'first-sync'
        ? `${name} did not sync within ${seconds} s: ${answer}`
        : `${name} could not be listed or watched for ${seconds} s: ${answer}`;
    resolveStarted();
    options.onSyncFailed({ resource: name, kind, message });
  }

  function checkHealth(): void {
    if (stopped || gaveUp) return;
    const now = Date.now();
    const limitSeconds = Math.round(options.syncTimeoutMs / 1000);
    if (!synced && now - startedAt > options.syncTimeoutMs) giveUp('first-sync', limitSeconds);
    else if (synced && failingSince !== undefined && now - failingSince > options.syncTimeoutMs) giveUp('lost-sync', limitSeconds);
  }

  return {
    resource: name,
    start() {
      const started = new Promise<void>((resolve) => {
        resolveStarted = resolve;
      });
      stopped = false;
      startedAt = Date.now();
      healthTimer = setInterval(checkHealth, Math.min(1000, Math.max(50, options.syncTimeoutMs / 4)));
      healthTimer.unref();
      run();
      return started;
    },
    async stop() {
      stopped = true;
      clearInterval(healthTimer);
      clearTimeout(restartTimer);
      resolveStarted();
      await listWatch.stop();
    },
    get(namespace, objectName) {
      return listWatch.get(objectName, namespace);
    },
    list(filter) {
      const all = [...listWatch.list()];
      return filter ? all.filter(filter) : all;
    },
    get synced() {
      return synced;
    },
  };
}
