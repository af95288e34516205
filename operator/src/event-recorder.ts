import type { Logger } from '@eap/core';
import type { KubeClient } from './kube/kube-client.ts';
import { RESOURCES, resourcePath } from './kube/resources.ts';

export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string };
}

export type EventRecorder = (subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string) => void;

/**
 * Records Kubernetes Events (core/v1, shown by `kubectl describe` and `kubectl get events`) on
 * the EventPipeline. Best effort: a failed write is logged, never retried or thrown.
 */
export function createEventRecorder(kube: KubeClient, logger: Logger, instance: string): EventRecorder {
  return function recordEvent(subject, type, reason, message) {
    const now = new Date().toISOString();
    const event = {
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
      message: message.slice(0, 1024),
      source: { component: 'eap-operator' },
      reportingComponent: 'eap.dev/eap-operator',
      reportingInstance: instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    kube.create(resourcePath(RESOURCES.event, subject.metadata.namespace), event).catch((error: unknown) => {
      logger.warn({ err: error, reason }, 'could not record a Kubernetes Event');
    });
  };
}
