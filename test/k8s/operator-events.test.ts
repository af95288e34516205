/**
 * The operator's Kubernetes Events, against the real API server with the chart's RBAC: the same
 * Event repeated (same object, type, reason and message) is one Event object whose `count` and
 * `lastTimestamp` grow, as client-go's event correlator makes it, not one object per occurrence;
 * a different message is an object of its own.
 */
import { createLogger } from '@eap/core';
import { type CoreV1Event, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEventRecorder, type EventSubject } from '../../operator/src/event-recorder.ts';
import { eventually, type KubeObject, TestKube } from './support/kube-client.ts';
import { type OperatorNamespace, pipelineManifest, setUpOperatorNamespace } from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
let setup: OperatorNamespace;
let subject: EventSubject;

beforeAll(async () => {
  setup = await setUpOperatorNamespace(kube, 'events', { startOperator: false });
  const created = await kube.create<KubeObject>(pipelineManifest(setup.namespace, 'noisy'));
  subject = {
    apiVersion: 'eap.dev/v1alpha1',
    kind: 'EventPipeline',
    metadata: { name: 'noisy', namespace: setup.namespace, uid: created.metadata?.uid },
  };
});

afterAll(async () => {
  await setup?.tearDown();
});

async function eventsOf(reason: string): Promise<CoreV1Event[]> {
  const list = await kube.typed(CoreV1Api).listNamespacedEvent({
    namespace: setup.namespace,
    fieldSelector: `involvedObject.name=noisy,reason=${reason}`,
  });
  return list.items;
}

describe('operator Events', () => {
  it('count repeats of the same Event on one object instead of creating one per occurrence', async () => {
    // With the operator's own permissions (create and patch Events), as the chart grants them.
    const recordEvent = createEventRecorder(
      kube.withToken(setup.token).typed(CoreV1Api),
      createLogger({ level: 'warn', name: 'event-recorder-test' }),
      'events-test',
    );
    // A burst: occurrences during the first write are folded into one update after it.
    for (let i = 0; i < 5; i++) recordEvent(subject, 'Warning', 'RedisUnreachable', 'cannot reach Redis');
    const afterBurst = await eventually('one Event counting 5', async () => {
      const events = await eventsOf('RedisUnreachable');
      return events.length === 1 && events[0]?.count === 5 ? events[0] : undefined;
    });
    // Later occurrences update the same object.
    for (let i = 0; i < 3; i++) {
      recordEvent(subject, 'Warning', 'RedisUnreachable', 'cannot reach Redis');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const later = await eventually('the same Event counting 8', async () => {
      const events = await eventsOf('RedisUnreachable');
      return events.length === 1 && events[0]?.count === 8 ? events[0] : undefined;
    });
    expect(later.metadata.name).toBe(afterBurst.metadata.name);
    expect(later.type).toBe('Warning');
    expect(later.involvedObject).toMatchObject({ kind: 'EventPipeline', name: 'noisy', uid: subject.metadata.uid });
    expect(new Date(later.lastTimestamp ?? 0).getTime()).toBeGreaterThanOrEqual(new Date(afterBurst.lastTimestamp ?? 0).getTime());
    expect(later.firstTimestamp).toEqual(afterBurst.firstTimestamp);

    // Another message is another Event.
    recordEvent(subject, 'Warning', 'RedisUnreachable', 'cannot reach Redis: connection refused');
    const both = await eventually('a second Event for the other message', async () => {
      const events = await eventsOf('RedisUnreachable');
      return events.length === 2 ? events : undefined;
    });
    expect(both.map((event) => [event.message, event.count]).sort()).toEqual([
      ['cannot reach Redis', 8],
      ['cannot reach Redis: connection refused', 1],
    ]);
  });
});
