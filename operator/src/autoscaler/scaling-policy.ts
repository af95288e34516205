/** The parts of `spec.worker` the scaling rule reads. */
export interface ScalingSpec {
  minReplicas: number;
  maxReplicas: number;
  targetBacklogPerReplica: number;
  stabilizationSeconds: number;
}

/** What the autoscaler remembers between measurements (lost on restart, which only delays scale-down). */
export interface ScalingMemory {
  /** Recommendations inside the scale-down window, oldest first. */
  recommendations: Array<{ at: number; replicas: number }>;
  /** Replica changes (up and down) inside the scale-up period: replicas before and after. */
  changes: Array<{ at: number; from: number; to: number }>;
  /** When the autoscaler first measured (a full window must be seen before scaling down). */
  since: number | undefined;
}

export interface ScalingDecision {
  /** Replicas to set (equal to the current count when nothing changes). */
  replicas: number;
  /** What the backlog alone asks for, clamped to [min, max]. */
  recommendation: number;
  reason: string;
  memory: ScalingMemory;
}

/** Within ±10 % of the target per replica, the replica count is left alone (no flapping). */
export const TOLERANCE = 0.1;
/** Scale-ups within this period together add at most max(4 pods, 100 %). */
export const SCALE_UP_PERIOD_MS = 15_000;
const SCALE_UP_PODS = 4;

export const emptyMemory = (): ScalingMemory => ({ recommendations: [], changes: [], since: undefined });

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * Worker replicas for a measured backlog (lag + pending over every shard). `backlog` null means
 * the backlog cannot be known (no consumer group yet, or Redis cannot compute the lag): the
 * current count is kept, only clamped into [min, max].
 *
 * desired = clamp(ceil(backlog / targetBacklogPerReplica), min, max), left at the current count
 * within the 10 % tolerance. Up: at once, but to at most max(base + 4, 2 × base), base being the
 * replicas at the start of the last 15 s (as the HPA counts it). Down: only to
 * the highest recommendation of the stabilization window, and only once a whole window has been
 * observed.
 */
export function decideReplicas(input: {
  now: number;
  current: number;
  backlog: number | null;
  spec: ScalingSpec;
  memory: ScalingMemory;
}): ScalingDecision {
  const { now, current, backlog, spec } = input;
  const windowMs = spec.stabilizationSeconds * 1000;
  const since = input.memory.since ?? now;
  const changes = input.memory.changes.filter((event) => event.at > now - SCALE_UP_PERIOD_MS);

  let recommendation: number;
  let why: string;
  if (backlog === null) {
    recommendation = clamp(current, spec.minReplicas, spec.maxReplicas);
    why = 'backlog unknown: holding';
  } else {
    const ratio = current > 0 ? backlog / (current * spec.targetBacklogPerReplica) : Number.POSITIVE_INFINITY;
    const raw = current > 0 && Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(backlog / spec.targetBacklogPerReplica);
    recommendation = clamp(raw, spec.minReplicas, spec.maxReplicas);
    why = `backlog ${backlog} at ${spec.targetBacklogPerReplica} per replica`;
  }
  const recommendations = [...input.memory.recommendations.filter((r) => r.at >= now - windowMs), { at: now, replicas: recommendation }];

  let replicas = current;
  let reason = `${why}: keeping ${current}`;
  if (current > spec.maxReplicas) {
    replicas = spec.maxReplicas;
    reason = `above maxReplicas ${spec.maxReplicas}`;
  } else if (current < spec.minReplicas || recommendation > current) {
    const target = Math.max(recommendation, spec.minReplicas);
    // Replicas at the start of the scale-up period (as the HPA counts them): scale-ups inside the
    // period do not compound the limit.
    const base = current - changes.reduce((sum, change) => sum + change.to - change.from, 0);
    const limit = Math.max(base + SCALE_UP_PODS, base * 2);
    replicas = Math.max(current, Math.min(target, limit));
    reason = replicas < target ? `${why}: up to ${replicas} (rate limited, wants ${target})` : `${why}: up to ${replicas}`;
  } else if (recommendation < current) {
    const observedWholeWindow = now - since >= windowMs;
    const highest = Math.max(...recommendations.map((r) => r.replicas));
    if (!observedWholeWindow) {
      reason = `${why}: wants ${recommendation}, waiting for the ${spec.stabilizationSeconds}s stabilization window`;
    } else if (highest < current) {
      replicas = highest;
      reason = `${why}: down to ${highest} (highest recommendation in ${spec.stabilizationSeconds}s)`;
    } else {
      reason = `${why}: wants ${recommendation}, held at ${current} by the stabilization window`;
    }
  }
  if (replicas !== current) changes.push({ at: now, from: current, to: replicas });
  return { replicas, recommendation, reason, memory: { recommendations, changes, since } };
}
