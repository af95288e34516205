import { createHash } from 'node:crypto';
import { nodeOptionsFor } from '@eap/core';
import type { EventPipeline, EventPipelineSpec } from './event-pipeline.schema.ts';
import { childMeta, childNames, selectorLabels } from './labels.ts';

/** Public port of the API container (the Service maps spec.api.service.port to it). */
export const API_CONTAINER_PORT = 8000;
/** Admin port of every EAP process: /metrics, /livez, /readyz. Named `metrics`. */
export const ADMIN_CONTAINER_PORT = 9464;
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
function nodeOptionsOf(resources: { limits?: Record<string, string | number> | undefined }): string {
  return nodeOptionsFor(memoryMiB(resources.limits?.memory));
}

/** `repository:tag`, or `repository@sha256:…` when the tag is a digest. */
export function imageReference(image: EventPipelineSpec['image']): string {
  return image.tag.startsWith('sha256:') ? `${image.repository}@${image.tag}` : `${image.repository}:${image.tag}`;
}

/**
 * Name of the migration Job for one image: deterministic, so that each image version migrates
 * once and a restarted operator finds the Job it created (at most 63 characters, a label value).
 */
export function migrationJobName(pipeline: EventPipeline, image: string): string {
  const hash = createHash('sha256').update(image).digest('hex').slice(0, 10);
  return `${pipeline.metadata.name.slice(0, 40)}-migrate-${hash}`;
}

function secretEnv(name: string, ref: { name: string; key: string }) {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

function connectionEnv(spec: EventPipelineSpec) {
  return [secretEnv('DATABASE_URL', spec.postgres.urlSecretRef), secretEnv('REDIS_URL', spec.redis.urlSecretRef)];
}

function podSecurity() {
  return {
    pod: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    container: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
}

function podSpecBase(spec: EventPipelineSpec) {
  return {
    // The API, the workers and the migrations never call the Kubernetes API: no token in the pod.
    automountServiceAccountToken: false,
    securityContext: podSecurity().pod,
    ...(spec.image.pullSecrets.length > 0 ? { imagePullSecrets: spec.image.pullSecrets.map((name) => ({ name })) } : {}),
  };
}

const adminProbes = {
  livenessProbe: { httpGet: { path: '/livez', port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
  readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
  startupProbe: { httpGet: { path: '/livez', port: 'metrics' }, periodSeconds: 2, failureThreshold: 30 },
};

/** The Job that runs `eap migrate up` for `image`; the API and workers move to `image` only after it succeeded. */
export function buildMigrationJob(pipeline: EventPipeline, image: string) {
  const { spec } = pipeline;
  const name = migrationJobName(pipeline, image);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...childMeta(pipeline, name, 'migrations'), annotations: { 'eap.dev/image': image } },
    spec: {
      backoffLimit: spec.migrations.backoffLimit,
      activeDeadlineSeconds: spec.migrations.activeDeadlineSeconds,
      template: {
        metadata: { labels: selectorLabels(pipeline, 'migrations') },
        spec: {
          ...podSpecBase(spec),
          restartPolicy: 'Never',
          containers: [
            {
              name: 'migrate',
              image,
              imagePullPolicy: spec.image.pullPolicy,
              args: ['migrate', 'up'],
              env: [...connectionEnv(spec), { name: 'LOG_LEVEL', value: 'info' }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              securityContext: podSecurity().container,
            },
          ],
        },
      },
    },
  };
}

/**
 * The API Deployment: `eap api`, public port `http`, admin port `metrics`, probes on /livez and
 * /readyz. With `spec.query.separate` it serves ingest, admin and docs (API_SERVE=ingest) and
 * `role: 'query'` builds the query Deployment from the same template (API_SERVE=query: the
 * query API and docs), with its own name, labels, replicas and resources.
 */
export function buildApiDeployment(pipeline: EventPipeline, image: string, role: 'api' | 'query' = 'api') {
  const { spec } = pipeline;
  const names = childNames(pipeline);
  const query = role === 'query';
  const resources = query ? spec.query.resources : spec.api.resources;
  const serve = query ? 'query' : spec.query.separate ? 'ingest' : undefined;
  const env = [
    ...connectionEnv(spec),
    ...(serve ? [{ name: 'API_SERVE', value: serve }] : []),
    { name: 'PORT', value: String(API_CONTAINER_PORT) },
    { name: 'ADMIN_PORT', value: String(ADMIN_CONTAINER_PORT) },
    { name: 'STREAM_SHARDS', value: String(spec.streams.shards) },
    { name: 'RATE_LIMIT_PER_SECOND', value: String(spec.api.rateLimit.perSecond) },
    { name: 'RATE_LIMIT_BURST', value: String(spec.api.rateLimit.burst) },
    { name: 'SHUTDOWN_DELAY_MS', value: String(API_DELAY_SECONDS * 1000) },
    { name: 'SHUTDOWN_DRAIN_MS', value: String(API_DRAIN_SECONDS * 1000) },
    { name: 'NODE_OPTIONS', value: nodeOptionsOf(resources) },
    // The admin routes are ingest's: a query process never gets the token.
    ...(spec.api.adminTokenSecretRef && !query ? [secretEnv('EAP_ADMIN_TOKEN', spec.api.adminTokenSecretRef)] : []),
    ...(spec.api.allowDemoAdminToken && !query ? [{ name: 'EAP_ALLOW_DEMO_TOKEN', value: 'true' }] : []),
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(pipeline, names[role], role),
    spec: {
      replicas: query ? spec.query.replicas : spec.api.replicas,
      selector: { matchLabels: selectorLabels(pipeline, role) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: selectorLabels(pipeline, role) },
        spec: {
          ...podSpecBase(spec),
          // Readiness turns false at SIGTERM and the API serves on while the endpoint goes away,
          // then in-flight requests drain; the rest is slack.
          terminationGracePeriodSeconds: API_DELAY_SECONDS + API_DRAIN_SECONDS + 17,
          containers: [
            {
              name: role,
              image,
              imagePullPolicy: spec.image.pullPolicy,
              args: ['api'],
              env,
              ports: [
                { name: 'http', containerPort: API_CONTAINER_PORT, protocol: 'TCP' },
                { name: 'metrics', containerPort: ADMIN_CONTAINER_PORT, protocol: 'TCP' },
              ],
              ...adminProbes,
              resources,
              securityContext: podSecurity().container,
            },
          ],
        },
      },
    },
  };
}

/**
 * The API Service: `http` for clients, and nothing else. It may be a LoadBalancer or NodePort, so
 * the admin port has its own headless Service (buildMetricsServices in network-access.ts).
 */
export function buildApiService(pipeline: EventPipeline) {
  const service = pipeline.spec.api.service;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(pipeline, childNames(pipeline).api, 'api'),
    spec: {
      type: service.type,
      selector: selectorLabels(pipeline, 'api'),
      ports: [
        {
          name: 'http',
          port: service.port,
          targetPort: 'http',
          protocol: 'TCP',
          ...(service.nodePort !== undefined && service.type !== 'ClusterIP' ? { nodePort: service.nodePort } : {}),
        },
      ],
    },
  };
}

/** The components running `eap api`: the API, and the query pods when `spec.query.separate`. */
export function apiComponents(pipeline: EventPipeline): ('api' | 'query')[] {
  return pipeline.spec.query.separate ? ['api', 'query'] : ['api'];
}

/** The query Service (with `spec.query.separate`): ClusterIP, `http` on port 8000, for the clients of the query API. */
export function buildQueryService(pipeline: EventPipeline) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(pipeline, childNames(pipeline).query, 'query'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(pipeline, 'query'),
      ports: [{ name: 'http', port: API_CONTAINER_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * The worker Deployment. It has no `spec.replicas`: the autoscaler owns the replica count through
 * the `/scale` subresource, and applying a manifest without it never resets that count.
 */
export function buildWorkerDeployment(pipeline: EventPipeline, image: string) {
  const { spec } = pipeline;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(pipeline, childNames(pipeline).worker, 'worker'),
    spec: {
      selector: { matchLabels: selectorLabels(pipeline, 'worker') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: selectorLabels(pipeline, 'worker') },
        spec: {
          ...podSpecBase(spec),
          // The batch in hand is written and acknowledged within the drain time; entries still
          // pending after a kill are taken over by the other workers (XAUTOCLAIM), so nothing is lost.
          terminationGracePeriodSeconds: WORKER_DRAIN_SECONDS + 10,
          containers: [
            {
              name: 'worker',
              image,
              imagePullPolicy: spec.image.pullPolicy,
              args: ['worker'],
              env: [
                ...connectionEnv(spec),
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'ADMIN_PORT', value: String(ADMIN_CONTAINER_PORT) },
                { name: 'STREAM_SHARDS', value: String(spec.streams.shards) },
                { name: 'WORKER_BATCH_SIZE', value: String(spec.worker.batchSize) },
                { name: 'SHUTDOWN_DRAIN_MS', value: String(WORKER_DRAIN_SECONDS * 1000) },
                { name: 'NODE_OPTIONS', value: nodeOptionsOf(spec.worker.resources) },
              ],
              ports: [{ name: 'metrics', containerPort: ADMIN_CONTAINER_PORT, protocol: 'TCP' }],
              ...adminProbes,
              resources: spec.worker.resources,
              securityContext: podSecurity().container,
            },
          ],
        },
      },
    },
  };
}

/** Voluntary disruptions (node drains) take at most one pod of each component at a time. */
export function buildPodDisruptionBudgets(pipeline: EventPipeline) {
  const names = childNames(pipeline);
  return ([...apiComponents(pipeline), 'worker'] as const).map((component) => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(pipeline, names[component], component),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(pipeline, component) } },
  }));
}
