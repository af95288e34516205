import { Duration } from 'cdk8s';
import {
  type AbstractPodProps,
  Capability,
  type ContainerSecurityContextProps,
  EnvValue,
  ImagePullPolicy,
  Probe,
  Secret,
  type WorkloadProps,
} from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { EventPipelineSpec } from './event-pipeline.schema.ts';

/**
 * What every EAP pod has in common, as cdk8s-plus-28 options: no ServiceAccount token, a
 * non-root user with a RuntimeDefault seccomp profile, read-only containers without
 * capabilities, the connection Secrets in the environment, probes on the admin port.
 */

/** Admin port of every EAP process: /metrics, /livez, /readyz. Named `metrics`. */
export const ADMIN_CONTAINER_PORT = 9464;
export const ADMIN_PORT_NAME = 'metrics';

/** An environment variable, in the order the container lists them. */
export type EnvEntry = [name: string, value: EnvValue];

const PULL_POLICY: Record<EventPipelineSpec['image']['pullPolicy'], ImagePullPolicy> = {
  Always: ImagePullPolicy.ALWAYS,
  IfNotPresent: ImagePullPolicy.IF_NOT_PRESENT,
  Never: ImagePullPolicy.NEVER,
};

export function pullPolicy(spec: EventPipelineSpec): ImagePullPolicy {
  return PULL_POLICY[spec.image.pullPolicy];
}

/** A value from a Secret key; `scope` holds the reference to the Secret (an imported construct, no object). */
export function secretEnv(scope: Construct, id: string, name: string, ref: { name: string; key: string }): EnvEntry {
  return [name, EnvValue.fromSecretValue({ secret: Secret.fromSecretName(scope, `${id}-${name}`, ref.name), key: ref.key })];
}

export function connectionEnv(scope: Construct, id: string, spec: EventPipelineSpec): EnvEntry[] {
  return [secretEnv(scope, id, 'DATABASE_URL', spec.postgres.urlSecretRef), secretEnv(scope, id, 'REDIS_URL', spec.redis.urlSecretRef)];
}

/** A literal value. */
export const plainEnv = (name: string, text: string): EnvEntry => [name, EnvValue.fromValue(text)];

export const CONTAINER_SECURITY: ContainerSecurityContextProps = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: [Capability.ALL] },
};

/** Pod options shared by the migration Job and the Deployments (the seccomp profile and pull secrets: podTemplateAdditions). */
export function podOptions(labels: Record<string, string>): Pick<WorkloadProps, 'podMetadata' | 'select'> & AbstractPodProps {
  return {
    podMetadata: { labels },
    // Selectors are EAP's own labels (workloads.ts), not cdk8s-plus's per-construct label.
    select: false,
    // The API, the workers and the migrations never call the Kubernetes API: no token in the pod.
    automountServiceAccountToken: false,
    securityContext: { ensureNonRoot: true, user: 1000, group: 1000, fsGroup: 1000 },
  };
}

/**
 * Pod-template fields cdk8s-plus-28 has no option for: a pod-level seccomp profile, and image
 * pull Secrets as a list (it takes a single `dockerRegistryAuth`).
 */
export function podTemplateAdditions(spec: EventPipelineSpec): Record<string, unknown> {
  return {
    'securityContext/seccompProfile': { type: 'RuntimeDefault' },
    ...(spec.image.pullSecrets.length > 0 ? { imagePullSecrets: spec.image.pullSecrets.map((name) => ({ name })) } : {}),
  };
}

/** HTTP probes on the admin port (its name replaces the number: overridePodTemplate's `probePort`). */
export function adminProbes() {
  const port = ADMIN_CONTAINER_PORT;
  return {
    liveness: Probe.fromHttpGet('/livez', {
      port,
      periodSeconds: Duration.seconds(10),
      timeoutSeconds: Duration.seconds(3),
      failureThreshold: 3,
    }),
    readiness: Probe.fromHttpGet('/readyz', {
      port,
      periodSeconds: Duration.seconds(5),
      timeoutSeconds: Duration.seconds(3),
      failureThreshold: 2,
    }),
    startup: Probe.fromHttpGet('/livez', { port, periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
  };
}
