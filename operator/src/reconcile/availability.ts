import type { ConditionUpdate } from './conditions.ts';

/** The fields of a Deployment availability reads (the library's V1Deployment has them). */
export interface DeploymentLike {
  metadata?: { generation?: number };
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

/**
 * Availability of the API or the worker Deployment. `serving` is false until the first
 * migrations completed (no Deployment is created before). The rollout must be done (the
 * controller saw the current generation and every replica runs the current template); then the
 * API needs every desired replica available, while workers need one (the autoscaler adds workers
 * all the time, and pods still starting must not make the pipeline unready) or none when the
 * autoscaler scaled them to zero.
 */
function availability(
  type: 'ApiAvailable' | 'WorkersAvailable',
  deployment: DeploymentLike | undefined,
  serving: boolean,
): ConditionUpdate {
  const what = type === 'ApiAvailable' ? 'API' : 'worker';
  if (!serving) {
    return {
      type,
      status: 'False',
      reason: 'WaitingForMigrations',
      message: `the ${what} Deployment is created once the first migrations complete`,
    };
  }
  if (!deployment) return { type, status: 'False', reason: 'RollingOut', message: `the ${what} Deployment is being created` };
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const available = status.availableReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const counts = `${available}/${desired} replicas available, ${updated} updated`;
  // A rollout is in progress while the controller has not seen the current template or pods of
  // an older one remain. Replicas just added (the autoscaler's, counted in the status only once
  // their pods exist) are not a rollout: availability below decides.
  const olderPods = (status.replicas ?? 0) > updated;
  if ((status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0) || olderPods) {
    return { type, status: 'False', reason: 'RollingOut', message: counts };
  }
  if (type === 'WorkersAvailable' && desired === 0) {
    return { type, status: 'True', reason: 'ScaledToZero', message: 'no backlog and minReplicas is 0' };
  }
  if (available < (type === 'ApiAvailable' ? desired : 1)) return { type, status: 'False', reason: 'Unavailable', message: counts };
  return { type, status: 'True', reason: 'Available', message: counts };
}

/**
 * ApiAvailable: the rollout is done and every desired API pod is available; with the query API
 * served apart (`separate`, holding the query Deployment), the same holds for the query pods too.
 */
export function apiCondition(
  deployment: DeploymentLike | undefined,
  serving: boolean,
  separate?: { query: DeploymentLike | undefined },
): ConditionUpdate {
  const api = availability('ApiAvailable', deployment, serving);
  if (!separate || api.status !== 'True') return api;
  const query = availability('ApiAvailable', separate.query, serving);
  if (query.status !== 'True') return { ...query, message: `query Deployment: ${query.message.replace('API Deployment', 'Deployment')}` };
  return { ...api, message: `API ${api.message}; query ${query.message}` };
}

/** WorkersAvailable: the rollout is done and at least one worker is available (or none is wanted). */
export const workersCondition = (deployment: DeploymentLike | undefined, serving: boolean) =>
  availability('WorkersAvailable', deployment, serving);
