import { hostname } from 'node:os';
import { intVar, parseEnv, SHARED_VARS } from '@eap/core';
import { z } from 'zod';

/** Configuration of the operator process, from the environment (the Helm chart sets these). */
export const OperatorConfigSchema = z.object({
  KUBECONFIG: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Kubeconfig files, separated by `:` and merged as kubectl does (paths inside a file are relative to that file; exec and OIDC credential plugins work). Unset: ~/.kube/config, else the in-cluster ServiceAccount.',
    ),
  POD_NAME: z
    .string()
    .min(1)
    .max(253)
    .optional()
    .describe('Pod name (downward API): this replica’s leader-election identity. Default hostname-pid.'),
  POD_NAMESPACE: z
    .string()
    .min(1)
    .max(63)
    .optional()
    .describe('Namespace of the leader-election Lease. Default the in-cluster namespace, else eap-system.'),
  WATCH_NAMESPACE: z
    .string()
    .min(1)
    .max(63)
    .optional()
    .describe('Reconcile only EventPipelines of this namespace. Default all namespaces.'),
  METRICS_PORT: intVar(8080, 0, 65535).describe('Port of /metrics, /livez, /readyz (and /healthz, the same as /livez).'),
  HOST: SHARED_VARS.HOST,
  LOG_LEVEL: SHARED_VARS.LOG_LEVEL,
  LEADER_ELECTION: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true')
    .describe('Compete for the Lease so only one replica reconciles. Turn off only for a single replica.'),
  LEASE_DURATION_SECONDS: intVar(12, 2, 300).describe('How long a Lease stays valid without renewal (the failover time after a crash).'),
  RENEW_DEADLINE_SECONDS: intVar(10, 1, 300).describe('The leader stops if it cannot renew within this time.'),
  RETRY_PERIOD_SECONDS: intVar(2, 1, 60).describe('Interval between Lease acquire/renew attempts.'),
  RESYNC_SECONDS: intVar(300, 10, 86_400).describe('Every EventPipeline is reconciled at least this often.'),
  RECONCILE_WORKERS: intVar(2, 1, 32).describe('EventPipelines reconciled at the same time.'),
  CACHE_SYNC_TIMEOUT_SECONDS: intVar(120, 1, 3600).describe(
    'Deadline of the first list of every watched kind, and how long a watched kind may stay unlistable or unwatchable later. Past it the operator is not ready, hands the Lease over and exits 1 (e.g. RBAC lacks a verb), naming the kind and the API server’s answer.',
  ),
  WATCH_INACTIVITY_TIMEOUT_SECONDS: intVar(300, 2, 3600).describe(
    'A watch that receives nothing (no event, no bookmark) for this long is aborted and opened again. Healthy watches never stay silent that long: the server is asked for bookmarks and to end each watch after 80 % of this time.',
  ),
  MONITORING_DISCOVERY_SECONDS: intVar(10, 1, 3600).describe(
    "How often the leader asks the API server whether the Prometheus Operator's kinds are served; when the answer changes (CRDs installed or removed), every EventPipeline is reconciled at once.",
  ),
});
export type OperatorConfig = z.infer<typeof OperatorConfigSchema>;

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  return parseEnv(OperatorConfigSchema, env);
}

export const identityOf = (config: OperatorConfig) => config.POD_NAME ?? `${hostname()}-${process.pid}`;
