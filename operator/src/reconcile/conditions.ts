import type { Condition, ConditionType } from '@eap/manifests';

/** A condition as the reconciler decides it; the transition time is filled in by {@link mergeConditions}. */
export interface ConditionUpdate {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * The new condition list: `lastTransitionTime` moves only when a condition's status changes
 * (reason and message may change without a transition), as in the Kubernetes API conventions.
 * Returns the conditions and the updates that changed status or reason (for Kubernetes Events).
 */
export function mergeConditions(
  previous: Condition[] | undefined,
  updates: ConditionUpdate[],
  observedGeneration: number,
  now: string,
): { conditions: Condition[]; transitions: ConditionUpdate[] } {
  const byType = new Map((previous ?? []).map((condition) => [condition.type, condition]));
  const transitions: ConditionUpdate[] = [];
  for (const update of updates) {
    const before = byType.get(update.type);
    const changed = before?.status !== update.status;
    if (changed || before?.reason !== update.reason) transitions.push(update);
    byType.set(update.type, {
      ...update,
      observedGeneration,
      lastTransitionTime: changed || !before ? now : before.lastTransitionTime,
    });
  }
  return { conditions: [...byType.values()], transitions };
}

/** Summary condition: Ready when migrations completed for the desired image and API and workers are available. */
export function readyCondition(parts: ConditionUpdate[]): ConditionUpdate {
  const gating: ConditionType[] = ['MigrationsComplete', 'ApiAvailable', 'WorkersAvailable'];
  const failing = parts.filter((part) => gating.includes(part.type) && part.status !== 'True');
  if (failing.length === 0)
    return { type: 'Ready', status: 'True', reason: 'PipelineReady', message: 'migrations complete; API and workers available' };
  const first = failing[0] as ConditionUpdate;
  return {
    type: 'Ready',
    status: first.status === 'Unknown' ? 'Unknown' : 'False',
    reason: first.reason,
    message: failing.map((part) => `${part.type}: ${part.message}`).join('; '),
  };
}
