import { describe, expect, it } from 'vitest';
import { apiCondition, type DeploymentLike, workersCondition } from './availability.ts';

const deployment = (replicas: number, status: DeploymentLike['status'], generation = 2): DeploymentLike => ({
  metadata: { generation },
  spec: { replicas },
  status: { observedGeneration: 2, ...status },
});

describe('availability conditions', () => {
  it('wait for the first migrations, then for the Deployment to exist', () => {
    expect(apiCondition(undefined, false)).toMatchObject({ status: 'False', reason: 'WaitingForMigrations' });
    expect(workersCondition(undefined, true)).toMatchObject({ status: 'False', reason: 'RollingOut' });
  });

  it.each([
    ['an old generation', deployment(2, { updatedReplicas: 2, availableReplicas: 2 }, 3), 'False', 'RollingOut', 'False', 'RollingOut'],
    [
      'pods on the old template',
      deployment(2, { replicas: 3, updatedReplicas: 1, availableReplicas: 2 }),
      'False',
      'RollingOut',
      'False',
      'RollingOut',
    ],
    // The autoscaler raised the replicas from 1 to 4; the controller has not created the pods yet.
    [
      'scaled up, new pods not yet created',
      deployment(4, { replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      'False',
      'Unavailable',
      'True',
      'Available',
    ],
    ['one of two available', deployment(2, { updatedReplicas: 2, availableReplicas: 1 }), 'False', 'Unavailable', 'True', 'Available'],
    ['none available', deployment(2, { updatedReplicas: 2, availableReplicas: 0 }), 'False', 'Unavailable', 'False', 'Unavailable'],
    ['all available', deployment(2, { updatedReplicas: 2, availableReplicas: 2 }), 'True', 'Available', 'True', 'Available'],
    ['zero replicas', deployment(0, { updatedReplicas: 0, availableReplicas: 0 }), 'True', 'Available', 'True', 'ScaledToZero'],
  ] as const)('%s', (_what, d, apiStatus, apiReason, workerStatus, workerReason) => {
    expect(apiCondition(d, true)).toMatchObject({ type: 'ApiAvailable', status: apiStatus, reason: apiReason });
    expect(workersCondition(d, true)).toMatchObject({ type: 'WorkersAvailable', status: workerStatus, reason: workerReason });
  });

  it('with the query API served apart, need the query pods available too', () => {
    const ready = deployment(2, { updatedReplicas: 2, availableReplicas: 2 });
    expect(apiCondition(ready, true, { query: undefined })).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
      message: 'query Deployment: the Deployment is being created',
    });
    const starting = deployment(2, { updatedReplicas: 2, availableReplicas: 1 });
    expect(apiCondition(ready, true, { query: starting })).toMatchObject({ status: 'False', reason: 'Unavailable' });
    expect(apiCondition(starting, true, { query: ready })).toMatchObject({ status: 'False', reason: 'Unavailable' });
    expect(apiCondition(ready, true, { query: ready })).toMatchObject({
      status: 'True',
      message: 'API 2/2 replicas available, 2 updated; query 2/2 replicas available, 2 updated',
    });
  });
});
