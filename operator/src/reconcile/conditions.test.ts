import { describe, expect, it } from 'vitest';
import { type ConditionUpdate, mergeConditions, readyCondition } from './conditions.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';

describe('mergeConditions', () => {
  it('moves lastTransitionTime only when the status changes', () => {
    const first = mergeConditions(undefined, [{ type: 'ApiAvailable', status: 'False', reason: 'Progressing', message: '0/2' }], 1, T0);
    expect(first.transitions.map((t) => t.type)).toEqual(['ApiAvailable']);
    const same = mergeConditions(
      first.conditions,
      [{ type: 'ApiAvailable', status: 'False', reason: 'Progressing', message: '1/2' }],
      2,
      T1,
    );
    expect(same.transitions).toEqual([]);
    expect(same.conditions[0]).toMatchObject({ lastTransitionTime: T0, message: '1/2', observedGeneration: 2 });
    const flipped = mergeConditions(
      same.conditions,
      [{ type: 'ApiAvailable', status: 'True', reason: 'Available', message: '2/2' }],
      2,
      T1,
    );
    expect(flipped.transitions).toHaveLength(1);
    expect(flipped.conditions[0]?.lastTransitionTime).toBe(T1);
  });

  it('keeps conditions it is not told about', () => {
    const first = mergeConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'R', message: '' }], 1, T0);
    const next = mergeConditions(first.conditions, [{ type: 'AutoscalerHealthy', status: 'True', reason: 'R', message: '' }], 1, T1);
    expect(next.conditions.map((c) => c.type)).toEqual(['Ready', 'AutoscalerHealthy']);
  });
});

describe('readyCondition', () => {
  const ok = (type: ConditionUpdate['type']): ConditionUpdate => ({ type, status: 'True', reason: 'OK', message: 'fine' });
  it('is True when migrations, API and workers are', () => {
    expect(readyCondition([ok('MigrationsComplete'), ok('ApiAvailable'), ok('WorkersAvailable')]).status).toBe('True');
  });
  it('ignores the autoscaler and monitoring, and names the first failing part', () => {
    const ready = readyCondition([
      ok('MigrationsComplete'),
      { type: 'ApiAvailable', status: 'False', reason: 'Unavailable', message: '0/2 replicas available' },
      ok('WorkersAvailable'),
      { type: 'ServiceMonitorReady', status: 'False', reason: 'CRDNotInstalled', message: 'x' },
      { type: 'AutoscalerHealthy', status: 'False', reason: 'RedisUnavailable', message: 'y' },
    ]);
    expect(ready).toMatchObject({ status: 'False', reason: 'Unavailable' });
    expect(ready.message).toBe('ApiAvailable: 0/2 replicas available');
  });
});
