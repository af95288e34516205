import type { KubeObject } from '../kube/kube-client.ts';
import type { ConditionUpdate } from './conditions.ts';

export interface DeploymentLike extends KubeObject {
  spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string }> } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

/** The image of a Deployment's first container. */
export const deploymentImage = (deployment: DeploymentLike | undefined) => deployment?.spec?.template?.spec?.containers?.[0]?.image;

function rollout(deployment: DeploymentLike) {
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  return {
    desired,
    available: status.availableReplicas ?? 0,
    updated: status.updatedReplicas ?? 0,
    current: (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0),
  };
}

/** ApiAvailable: the rollout is done and every desired API pod is available. */
export function apiCondition(deployment: DeploymentLike | undefined): ConditionUpdate {
  if (!deployment) {
    return {
      type: 'ApiAvailable',
      status: 'False',
      reason: 'WaitingForMigrations',
      message: 'the API Deployment is created once the first migrations complete',
    };
  }
  const r = rollout(deployment);
  const counts = `${r.available}/${r.desired} replicas available, ${r.updated} updated`;
  if (!r.current || r.updated < r.desired) return { type: 'ApiAvailable', status: 'False', reason: 'RollingOut', message: counts };
  if (r.available < r.desired) return { type: 'ApiAvailable', status: 'False', reason: 'Unavailable', message: counts };
  return { type: 'ApiAvailable', status: 'True', reason: 'Available', message: counts };
}

/**
 * WorkersAvailable: the rollout is done and at least one worker is available (the autoscaler adds
 * workers all the time; pods still starting do not make the pipeline unready). True at zero
 * replicas when the autoscaler scaled to zero.
 */
export function workersCondition(deployment: DeploymentLike | undefined): ConditionUpdate {
  if (!deployment) {
    return {
      type: 'WorkersAvailable',
      status: 'False',
      reason: 'WaitingForMigrations',
      message: 'the worker Deployment is created once the first migrations complete',
    };
  }
  const r = rollout(deployment);
  const counts = `${r.available}/${r.desired} replicas available, ${r.updated} updated`;
  if (!r.current || r.updated < r.desired) return { type: 'WorkersAvailable', status: 'False', reason: 'RollingOut', message: counts };
  if (r.desired === 0)
    return { type: 'WorkersAvailable', status: 'True', reason: 'ScaledToZero', message: 'no backlog and minReplicas is 0' };
  if (r.available < 1) return { type: 'WorkersAvailable', status: 'False', reason: 'Unavailable', message: counts };
  return { type: 'WorkersAvailable', status: 'True', reason: 'Available', message: counts };
}
