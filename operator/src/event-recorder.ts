import type { Logger } from '@eap/core';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { describeKubeError, httpStatusOf, MERGE_PATCH } from './kube-clients.ts';

export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string | undefined };
}

export type EventRecorder = (subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string) => void;

/** The same Event again within this time updates the existing object rather than creating one. */
export const EVENT_AGGREGATION_WINDOW_MS = 10 * 60_000;
/** Distinct Events remembered for aggregation (least recently seen forgotten first), as client-go's correlator. */
export const EVENT_CACHE_SIZE = 4096;

/** One distinct Event (involved object, type, reason, message) and the object recording it. */
interface Series {
  /** Name of the Event object, once created. */
  name: string | undefined;
  count: number;
  firstTimestamp: Date;
  lastTimestamp: Date;
  /** A write is in flight; occurrences meanwhile are sent by one write after it. */
  writing: boolean;
  dirty: boolean;
}

/**
 * Records Kubernetes Events (core/v1, shown by `kubectl describe` and `kubectl get events`) on
 * the EventPipeline, aggregated as client-go's event correlator does: a repeat of the same Event
 * (same involved object, type, reason and message) within {@link EVENT_AGGREGATION_WINDOW_MS}
 * patches the existing object's `count` and `lastTimestamp` instead of creating another object,
 * and occurrences during a write are folded into one write after it. Memory is bounded by an LRU
 * of {@link EVENT_CACHE_SIZE} distinct Events. Best effort: a failed write is logged, never
 * retried or thrown (the next occurrence writes the count again).
 */
export function createEventRecorder(
  core: CoreV1Api,
  logger: Logger,
  instance: string,
  options: { windowMs?: number; cacheSize?: number } = {},
): EventRecorder {
  const windowMs = options.windowMs ?? EVENT_AGGREGATION_WINDOW_MS;
  const cacheSize = options.cacheSize ?? EVENT_CACHE_SIZE;
  /** Map order is recency order: a key is re-inserted on every occurrence, the first is the oldest. */
  const recent = new Map<string, Series>();

  function remember(key: string, series: Series): void {
    recent.delete(key);
    recent.set(key, series);
    while (recent.size > cacheSize) {
      const oldest = recent.keys().next().value;
      if (oldest === undefined) break;
      recent.delete(oldest);
    }
  }

  function eventObject(subject: EventSubject, type: string, reason: string, message: string, series: Series): CoreV1Event {
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${subject.metadata.name}.`, namespace: subject.metadata.namespace },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        name: subject.metadata.name,
        namespace: subject.metadata.namespace,
        uid: subject.metadata.uid,
      },
      type,
      reason,
      message,
      source: { component: 'eap-operator' },
      reportingComponent: 'eap.dev/eap-operator',
      reportingInstance: instance,
      firstTimestamp: series.firstTimestamp,
      lastTimestamp: series.lastTimestamp,
      count: series.count,
    };
  }

  async function write(subject: EventSubject, type: string, reason: string, message: string, series: Series): Promise<void> {
    const namespace = subject.metadata.namespace;
    if (series.name !== undefined) {
      try {
        await core.patchNamespacedEvent(
          { name: series.name, namespace, body: { count: series.count, lastTimestamp: series.lastTimestamp.toISOString() } },
          MERGE_PATCH,
        );
        return;
      } catch (error) {
        // Events expire (an hour by default): start a new object.
        if (httpStatusOf(error) !== 404) throw error;
      }
    }
    const created = await core.createNamespacedEvent({ namespace, body: eventObject(subject, type, reason, message, series) });
    series.name = created.metadata?.name;
  }

  function flush(subject: EventSubject, type: string, reason: string, message: string, series: Series): void {
    series.writing = true;
    series.dirty = false;
    write(subject, type, reason, message, series)
      .catch((error: unknown) => {
        logger.warn({ reason, answer: describeKubeError(error) }, 'could not record a Kubernetes Event');
      })
      .finally(() => {
        series.writing = false;
        if (series.dirty) flush(subject, type, reason, message, series);
      });
  }

  return function recordEvent(subject, type, reason, message) {
    const text = message.slice(0, 1024);
    const key = JSON.stringify([subject.metadata.namespace, subject.kind, subject.metadata.name, subject.metadata.uid, type, reason, text]);
    const now = new Date();
    let series = recent.get(key);
    if (series && now.getTime() - series.lastTimestamp.getTime() <= windowMs) {
      series.count++;
      series.lastTimestamp = now;
    } else {
      series = { name: undefined, count: 1, firstTimestamp: now, lastTimestamp: now, writing: false, dirty: false };
    }
    remember(key, series);
    if (series.writing) series.dirty = true;
    else flush(subject, type, reason, text, series);
  };
}
