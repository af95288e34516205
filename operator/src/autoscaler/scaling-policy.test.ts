import { describe, expect, it } from 'vitest';
import { decideReplicas, emptyMemory, type ScalingMemory, type ScalingSpec } from './scaling-policy.ts';

const spec: ScalingSpec = { minReplicas: 1, maxReplicas: 10, targetBacklogPerReplica: 1000, stabilizationSeconds: 300 };
/** Memory of an autoscaler that has been measuring for a long time with nothing recent. */
const settled = (): ScalingMemory => ({ ...emptyMemory(), since: 0 });
const NOW = 10_000_000;

describe('decideReplicas', () => {
  it.each([
    // backlog, current, expected replicas, why
    [0, 1, 1, 'empty backlog stays at min'],
    [2500, 1, 3, 'ceil(2500 / 1000) = 3'],
    [3000, 3, 3, 'exactly on target'],
    [3299, 3, 3, 'within +10 % tolerance'],
    [3301, 3, 4, 'just outside tolerance'],
    [2701, 3, 3, 'within -10 %: no change (and down would wait anyway)'],
    [1_000_000, 2, 6, 'up by at most max(+4, +100 %) = 6 from 2'],
    [1_000_000, 8, 10, 'clamped to max'],
    [50, 0, 1, 'up to min from zero'],
    [null, 4, 4, 'unknown backlog holds'],
    [null, 12, 10, 'unknown backlog still clamps to max'],
    [null, 0, 1, 'unknown backlog still clamps to min'],
  ] as Array<[number | null, number, number, string]>)('backlog %s with %s replicas → %s (%s)', (backlog, current, expected) => {
    const decision = decideReplicas({ now: NOW, current, backlog, spec, memory: settled() });
    expect(decision.replicas).toBe(expected);
  });

  it('scales to zero only when min is 0, and ceil() brings it back for one entry', () => {
    const zeroSpec = { ...spec, minReplicas: 0, stabilizationSeconds: 0 };
    expect(decideReplicas({ now: NOW, current: 1, backlog: 0, spec: zeroSpec, memory: settled() }).replicas).toBe(0);
    expect(decideReplicas({ now: NOW, current: 0, backlog: 1, spec: zeroSpec, memory: settled() }).replicas).toBe(1);
  });

  it('limits scale-ups within one 15 s period from the replicas at its start', () => {
    const first = decideReplicas({ now: NOW, current: 2, backlog: 1_000_000, spec: { ...spec, maxReplicas: 100 }, memory: settled() });
    expect(first.replicas).toBe(6);
    // 5 s later, still inside the period: the limit is max(2 + 4, 2 × 2) = 6, so no further growth.
    const second = decideReplicas({
      now: NOW + 5000,
      current: 6,
      backlog: 1_000_000,
      spec: { ...spec, maxReplicas: 100 },
      memory: first.memory,
    });
    expect(second.replicas).toBe(6);
    // After the period: from 6, up to max(10, 12) = 12.
    const third = decideReplicas({
      now: NOW + 16_000,
      current: 6,
      backlog: 1_000_000,
      spec: { ...spec, maxReplicas: 100 },
      memory: second.memory,
    });
    expect(third.replicas).toBe(12);
  });

  it('counts the limit from the replicas at the start of the period, scale-downs included', () => {
    const s = { ...spec, maxReplicas: 100, stabilizationSeconds: 0 };
    // 8 replicas 10 s ago, then down to 2: the period started at 8, so up to 16 is allowed now.
    const memory: ScalingMemory = { ...settled(), changes: [{ at: NOW - 10_000, from: 8, to: 2 }] };
    expect(decideReplicas({ now: NOW, current: 2, backlog: 1_000_000, spec: s, memory }).replicas).toBe(16);
    // Once that change is older than 15 s, the base is the current 2: up to 6.
    expect(decideReplicas({ now: NOW + 6000, current: 2, backlog: 1_000_000, spec: s, memory }).replicas).toBe(6);
  });

  it('scales down only to the highest recommendation inside the window', () => {
    const s = { ...spec, stabilizationSeconds: 60 };
    let memory = settled();
    let current = 8;
    // 8000 → 8 replicas recommended, then the backlog drops.
    memory = decideReplicas({ now: NOW, current, backlog: 8000, spec: s, memory }).memory;
    let decision = decideReplicas({ now: NOW + 20_000, current, backlog: 3000, spec: s, memory });
    expect(decision.replicas).toBe(8); // 8 is still inside the window
    memory = decision.memory;
    decision = decideReplicas({ now: NOW + 40_000, current, backlog: 1000, spec: s, memory });
    expect(decision.replicas).toBe(8);
    memory = decision.memory;
    // 61 s after the 8: the highest left in the window is 3.
    decision = decideReplicas({ now: NOW + 61_000, current, backlog: 1000, spec: s, memory });
    expect(decision.replicas).toBe(3);
    current = decision.replicas;
    memory = decision.memory;
    // The 3 recommended at +20 s is still inside the window at +75 s.
    decision = decideReplicas({ now: NOW + 75_000, current, backlog: 0, spec: s, memory });
    expect(decision.replicas).toBe(3);
    // Once it has left the window, down to what remains (1).
    decision = decideReplicas({ now: NOW + 81_000, current, backlog: 0, spec: s, memory: decision.memory });
    expect(decision.replicas).toBe(1);
  });

  it('does not scale down before a whole window has been observed (e.g. after an operator restart)', () => {
    const fresh = decideReplicas({ now: NOW, current: 5, backlog: 0, spec, memory: emptyMemory() });
    expect(fresh.replicas).toBe(5);
    expect(fresh.reason).toContain('stabilization window');
    const later = decideReplicas({ now: NOW + 300_000, current: 5, backlog: 0, spec, memory: fresh.memory });
    expect(later.replicas).toBe(1);
  });

  it('scales up at once even right after a restart', () => {
    expect(decideReplicas({ now: NOW, current: 1, backlog: 4000, spec, memory: emptyMemory() }).replicas).toBe(4);
  });

  it('applies a lowered maxReplicas at once', () => {
    expect(decideReplicas({ now: NOW, current: 9, backlog: 9000, spec: { ...spec, maxReplicas: 4 }, memory: emptyMemory() }).replicas).toBe(
      4,
    );
  });
});
