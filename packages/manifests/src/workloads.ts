import { createHash } from 'node:crypto';
import { type EapProcess, nodeOptionsFor } from '@eap/core';
import { Duration, Size } from 'cdk8s';
import {
  Cpu,
  Deployment,
  DeploymentStrategy,
  EnvFieldPaths,
  EnvValue,
  Job,
  k8s,
  LabelSelector,
  PercentOrAbsolute,
  Protocol,
} from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { overrideDeploymentDefaults, overridePodTemplate } from './cdk8s-plus-defaults.ts';
import { type KubeManifest, synthesizeOne } from './chart-json.ts';
import type { EventPipeline, EventPipelineSpec } from './event-pipeline.schema.ts';
import { childMeta, childNames, selectorLabels } from './labels.ts';
import {
  ADMIN_CONTAINER_PORT,
  ADMIN_PORT_NAME,
  adminProbes,
  CONTAINER_SECURITY,
  connectionEnv,
  type EnvEntry,
  podOptions,
  podTemplateAdditions,
  pullPolicy,
  plainEnv,
  secretEnv,
} from './pod-template.ts';

export { ADMIN_CONTAINER_PORT } from './pod-template.ts';

/** Public port of the API container (the Service maps spec.api.service.port to it). */
export const API_CONTAINER_PORT = 8000;
/** The worker finishes the batch in hand within this time on SIGTERM (its SHUTDOWN_DRAIN_MS). */
const WORKER_DRAIN_SECONDS = 20;
/** The API drains in-flight requests within this time on SIGTERM (its SHUTDOWN_DRAIN_MS). */
const API_DRAIN_SECONDS = 8;
/**
 * Before draining, the API keeps serving this long after SIGTERM (its SHUTDOWN_DELAY_MS): the
 * pod's endpoint is being removed from the Service everywhere (kube-proxy on every node) and
 * requests still arriving must not be refused.
 */
const API_DELAY_SECONDS = 5;

const BINARY_UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A memory quantity (`384Mi`, `1G`, `536870912`, `5e8`) in MiB; undefined when unset or not a size. */
export function memoryMiB(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const match = /^\+?(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|[eE][+-]?\d+)?$/.exec(String(quantity));
  if (!match) return undefined;
  const value = Number(match[1]);
  const suffix = match[2] ?? '';
  const bytes = /^[eE]/.test(suffix)
    ? value * 10 ** Number(suffix.slice(1))
    : value * (BINARY_UNITS[suffix] ?? DECIMAL_UNITS[suffix] ?? Number.NaN);
  return Number.isFinite(bytes) ? bytes / 2 ** 20 : undefined;
}

/** NODE_OPTIONS for a container: the V8 heap derived from its memory limit (nodeOptionsFor in @eap/core). */
function nodeOptionsOf(kind: EapProcess, resources: { limits?: Record<string, string | number> | undefined }): string {
  return nodeOptionsFor(kind, memoryMiB(resources.limits?.memory));
}

/** `repository:tag`, or `repository@sha256:…` when the tag is a digest. */
export function imageReference(image: EventPipelineSpec['image']): string {
  return image.tag.startsWith('sha256:') ? `${image.repository}@${image.tag}` : `${image.repository}:${image.tag}`;
}

/**
 * Name of the migration Job for one image: deterministic, so that each image version migrates
 * once and a restarted operator finds the Job it created (at most 63 characters, a label value).
 */
export function migrationJobName(pipeline: { metadata: { name: string } }, image: string): string {
  const hash = createHash('sha256').update(image).digest('hex').slice(0, 10);
  return `${pipeline.metadata.name.slice(0, 40)}-migrate-${hash}`;
}

/** The components running `eap api`: the API, and the query pods when `spec.query.separate`. */
export function apiComponents(pipeline: EventPipeline): ('api' | 'query')[] {
  return pipeline.spec.query.separate ? ['api', 'query'] : ['api'];
}

/** Adds the Job that runs `eap migrate up` for `image`; the API and workers move to `image` only after it succeeded. */
export function addMigrationJob(scope: Construct, pipeline: EventPipeline, image: string): Job {
  const { spec } = pipeline;
  const name = migrationJobName(pipeline, image);
  const id = `job-${name}`;
  const job = new Job(scope, id, {
    metadata: { ...childMeta(pipeline, name, 'migrations'), annotations: { 'eap.dev/image': image } },
    backoffLimit: spec.migrations.backoffLimit,
    activeDeadline: Duration.seconds(spec.migrations.activeDeadlineSeconds),
    ...podOptions(selectorLabels(pipeline, 'migrations')),
    containers: [
      {
        name: 'migrate',
        image,
        imagePullPolicy: pullPolicy(spec),
        args: ['migrate', 'up'],
        envVariables: Object.fromEntries([...connectionEnv(scope, id, spec), plainEnv('LOG_LEVEL', 'info')]),
        resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) } },
        securityContext: CONTAINER_SECURITY,
      },
    ],
  });
  // A Job's restartPolicy is cdk8s-plus's Never; its grace period was always the API default.
  overridePodTemplate(job, { keepRestartPolicy: true, dropTerminationGrace: true, add: podTemplateAdditions(spec), containers: [{}] });
  return job;
}

/** Both Deployments roll one new pod in before an old one goes. */
const ROLLING_UPDATE = DeploymentStrategy.rollingUpdate({
  maxSurge: PercentOrAbsolute.absolute(1),
  maxUnavailable: PercentOrAbsolute.absolute(0),
});

interface ServingDeploymentProps {
  role: 'api' | 'query' | 'worker';
  image: string;
  /** Undefined: no `spec.replicas` (the autoscaler owns the count through `/scale`). */
  replicas: number | undefined;
  terminationGraceSeconds: number;
  args: string[];
  env: EnvEntry[];
  ports: Array<{ name: string; number: number }>;
  resources: EventPipelineSpec['worker']['resources'];
}

/** The construct id of a Deployment; the Secret references of its environment are named after it. */
const deploymentId = (pipeline: EventPipeline, role: ServingDeploymentProps['role']) => `deployment-${childNames(pipeline)[role]}`;

/** A Deployment of `eap` serving on the admin port: the API, query and worker Deployments differ only in these props. */
function addServingDeployment(scope: Construct, pipeline: EventPipeline, props: ServingDeploymentProps): Deployment {
  const { spec } = pipeline;
  const labels = selectorLabels(pipeline, props.role);
  const deployment = new Deployment(scope, deploymentId(pipeline, props.role), {
    metadata: childMeta(pipeline, childNames(pipeline)[props.role], props.role),
    replicas: props.replicas,
    strategy: ROLLING_UPDATE,
    terminationGracePeriod: Duration.seconds(props.terminationGraceSeconds),
    ...podOptions(labels),
    containers: [
      {
        name: props.role,
        image: props.image,
        imagePullPolicy: pullPolicy(spec),
        args: props.args,
        envVariables: Object.fromEntries(props.env),
        ports: props.ports.map((port) => ({ ...port, protocol: Protocol.TCP })),
        ...adminProbes(),
        // None of cdk8s-plus's default requests and limits: the spec's, exactly (overridePodTemplate).
        resources: {},
        securityContext: CONTAINER_SECURITY,
      },
    ],
  });
  deployment.select(LabelSelector.of({ labels }));
  // cdk8s-plus writes `replicas: 2` unless something else scales the Deployment, as the operator's autoscaler does.
  if (props.replicas === undefined) deployment.markHasAutoscaler();
  overrideDeploymentDefaults(deployment);
  overridePodTemplate(deployment, {
    add: podTemplateAdditions(spec),
    containers: [{ resources: props.resources, probePort: ADMIN_PORT_NAME }],
  });
  return deployment;
}

/**
 * Adds the API Deployment: `eap api`, public port `http`, admin port `metrics`, probes on /livez
 * and /readyz. With `spec.query.separate` it serves ingest, admin and docs (API_SERVE=ingest) and
 * `role: 'query'` adds the query Deployment from the same template (API_SERVE=query: the query
 * API and docs), with its own name, labels, replicas and resources.
 */
export function addApiDeployment(scope: Construct, pipeline: EventPipeline, image: string, role: 'api' | 'query' = 'api'): Deployment {
  const { spec } = pipeline;
  const query = role === 'query';
  const resources = query ? spec.query.resources : spec.api.resources;
  const serve = query ? 'query' : spec.query.separate ? 'ingest' : undefined;
  const id = deploymentId(pipeline, role);
  const env: EnvEntry[] = [
    ...connectionEnv(scope, id, spec),
    ...(serve ? [plainEnv('API_SERVE', serve)] : []),
    plainEnv('PORT', String(API_CONTAINER_PORT)),
    plainEnv('ADMIN_PORT', String(ADMIN_CONTAINER_PORT)),
    plainEnv('STREAM_SHARDS', String(spec.streams.shards)),
    plainEnv('RATE_LIMIT_PER_SECOND', String(spec.api.rateLimit.perSecond)),
    plainEnv('RATE_LIMIT_BURST', String(spec.api.rateLimit.burst)),
    plainEnv('SHUTDOWN_DELAY_MS', String(API_DELAY_SECONDS * 1000)),
    plainEnv('SHUTDOWN_DRAIN_MS', String(API_DRAIN_SECONDS * 1000)),
    plainEnv('NODE_OPTIONS', nodeOptionsOf('api', resources)),
    // The admin routes are ingest's: a query process never gets the token.
    ...(spec.api.adminTokenSecretRef && !query ? [secretEnv(scope, id, 'EAP_ADMIN_TOKEN', spec.api.adminTokenSecretRef)] : []),
    ...(spec.api.allowDemoAdminToken && !query ? [plainEnv('EAP_ALLOW_DEMO_TOKEN', 'true')] : []),
  ];
  return addServingDeployment(scope, pipeline, {
    role,
    image,
    replicas: query ? spec.query.replicas : spec.api.replicas,
    // Readiness turns false at SIGTERM and the API serves on while the endpoint goes away,
    // then in-flight requests drain; the rest is slack.
    terminationGraceSeconds: API_DELAY_SECONDS + API_DRAIN_SECONDS + 17,
    args: ['api'],
    env,
    ports: [
      { name: 'http', number: API_CONTAINER_PORT },
      { name: ADMIN_PORT_NAME, number: ADMIN_CONTAINER_PORT },
    ],
    resources,
  });
}

/**
 * Adds the worker Deployment. It has no `spec.replicas`: the autoscaler owns the replica count
 * through the `/scale` subresource, and applying a manifest without it never resets that count.
 * `replicas` sets one for manifests applied without the operator (the cdk8s app's plain pipeline).
 */
export function addWorkerDeployment(scope: Construct, pipeline: EventPipeline, image: string, replicas?: number): Deployment {
  const { spec } = pipeline;
  const id = deploymentId(pipeline, 'worker');
  return addServingDeployment(scope, pipeline, {
    role: 'worker',
    image,
    replicas,
    // The batch in hand is written and acknowledged within the drain time; entries still
    // pending after a kill are taken over by the other workers (XAUTOCLAIM), so nothing is lost.
    terminationGraceSeconds: WORKER_DRAIN_SECONDS + 10,
    args: ['worker'],
    env: [
      ...connectionEnv(scope, id, spec),
      ['POD_NAME', EnvValue.fromFieldRef(EnvFieldPaths.POD_NAME)],
      plainEnv('ADMIN_PORT', String(ADMIN_CONTAINER_PORT)),
      plainEnv('STREAM_SHARDS', String(spec.streams.shards)),
      plainEnv('WORKER_BATCH_SIZE', String(spec.worker.batchSize)),
      plainEnv('SHUTDOWN_DRAIN_MS', String(WORKER_DRAIN_SECONDS * 1000)),
      plainEnv('NODE_OPTIONS', nodeOptionsOf('worker', spec.worker.resources)),
    ],
    ports: [{ name: ADMIN_PORT_NAME, number: ADMIN_CONTAINER_PORT }],
    resources: spec.worker.resources,
  });
}

/**
 * Voluntary disruptions (node drains) take at most one pod of each component at a time.
 * cdk8s-plus-28 has no PodDisruptionBudget construct: its typed `k8s` class.
 */
export function addPodDisruptionBudgets(scope: Construct, pipeline: EventPipeline): k8s.KubePodDisruptionBudget[] {
  const names = childNames(pipeline);
  return ([...apiComponents(pipeline), 'worker'] as const).map(
    (component) =>
      new k8s.KubePodDisruptionBudget(scope, `pdb-${names[component]}`, {
        metadata: childMeta(pipeline, names[component], component),
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorLabels(pipeline, component) } },
      }),
  );
}

/** An HTTP probe on a named container port, as synthesized. */
interface HttpProbeJson {
  httpGet: { path: string; port: string };
  periodSeconds: number;
  timeoutSeconds?: number;
  failureThreshold: number;
}

/** A Deployment as synthesized, typed as far as callers read it. */
export type DeploymentManifest = KubeManifest & {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        containers: Array<{
          name: string;
          image: string;
          args: string[];
          env: Array<{ name: string; value?: string; valueFrom?: Record<string, unknown> }>;
          ports: Array<{ name: string; containerPort: number; protocol: string }>;
          livenessProbe: HttpProbeJson;
          readinessProbe: HttpProbeJson;
          startupProbe: HttpProbeJson;
          resources: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
          securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
        }>;
        [field: string]: unknown;
      };
    };
  };
};

/** The migration Job for `image` as JSON (the operator creates it before anything else). */
export function buildMigrationJob(pipeline: EventPipeline, image: string): KubeManifest {
  return synthesizeOne((scope) => addMigrationJob(scope, pipeline, image));
}

/** The API (or query) Deployment as JSON: see addApiDeployment. */
export function buildApiDeployment(pipeline: EventPipeline, image: string, role: 'api' | 'query' = 'api'): DeploymentManifest {
  return synthesizeOne((scope) => addApiDeployment(scope, pipeline, image, role));
}

/** The worker Deployment as JSON: see addWorkerDeployment. */
export function buildWorkerDeployment(pipeline: EventPipeline, image: string): DeploymentManifest {
  return synthesizeOne((scope) => addWorkerDeployment(scope, pipeline, image));
}
