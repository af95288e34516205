import { z } from 'zod';

/** API group, version and names of the EventPipeline custom resource. */
export const EVENT_PIPELINE = {
  group: 'eap.dev',
  version: 'v1alpha1',
  kind: 'EventPipeline',
  listKind: 'EventPipelineList',
  plural: 'eventpipelines',
  singular: 'eventpipeline',
  shortNames: ['evp'],
} as const;
export const EVENT_PIPELINE_API_VERSION = `${EVENT_PIPELINE.group}/${EVENT_PIPELINE.version}`;

/** Field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'eap-operator';

/** The platform image tag this release of the manifests was built with (the default `image.tag`). */
export const DEFAULT_IMAGE = { repository: 'ghcr.io/eap-dev/eap', tag: '0.1.0' } as const;

const kubeName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { error: 'must be a lowercase RFC 1123 name' });

/** A key of a Secret in the EventPipeline's namespace. */
const secretKeyRef = (defaultKey: string) =>
  z
    .object({
      name: kubeName.describe('Name of the Secret, in the namespace of the EventPipeline.'),
      key: z.string().min(1).max(253).default(defaultKey).describe(`Key inside the Secret. Default "${defaultKey}".`),
    })
    .strict();

/** A Kubernetes resource quantity such as `250m`, `512Mi` or `2`. */
const Quantity = z
  .union([
    z.string().regex(/^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(\d+(\.\d*)?|\.\d+)))?$/),
    z.number().int().nonnegative(),
  ])
  .meta({ 'x-kubernetes-int-or-string': true });

const Resources = z
  .object({
    requests: z.record(z.string(), Quantity).optional().describe('Minimum resources, e.g. {cpu: 100m, memory: 128Mi}.'),
    limits: z.record(z.string(), Quantity).optional().describe('Maximum resources, e.g. {memory: 256Mi}.'),
  })
  .strict();

const Image = z
  .object({
    repository: z
      .string()
      .min(1)
      .max(500)
      .default(DEFAULT_IMAGE.repository)
      .describe(`Image repository. Default "${DEFAULT_IMAGE.repository}".`),
    tag: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\w][\w.-]*(@sha256:[a-f0-9]{64})?$|^sha256:[a-f0-9]{64}$/, { error: 'must be an image tag or a sha256 digest' })
      .default(DEFAULT_IMAGE.tag)
      .describe(`Image tag (or sha256:<digest>). Migrations run once per value. Default "${DEFAULT_IMAGE.tag}".`),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent').describe('Image pull policy. Default IfNotPresent.'),
    pullSecrets: z.array(kubeName).max(16).default([]).describe('Names of image pull Secrets. Default none.'),
  })
  .strict();

const ApiService = z
  .object({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP').describe('Service type. Default ClusterIP.'),
    port: z.number().int().min(1).max(65535).default(8000).describe('Service port for ingest and query. Default 8000.'),
    nodePort: z.number().int().min(30000).max(32767).optional().describe('Node port (NodePort and LoadBalancer only). Default: allocated.'),
  })
  .strict()
  .meta({
    'x-kubernetes-validations': [
      { rule: "!has(self.nodePort) || self.type != 'ClusterIP'", message: 'nodePort needs service type NodePort or LoadBalancer' },
    ],
  });

const Api = z
  .object({
    replicas: z.number().int().min(1).max(100).default(2).describe('API pods. Default 2.'),
    resources: Resources.default({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } }).describe(
      'API container resources. Default requests cpu 250m, memory 256Mi; limit memory 512Mi.',
    ),
    service: ApiService.default({ type: 'ClusterIP', port: 8000 }).describe('The API Service. Default ClusterIP on port 8000.'),
    rateLimit: z
      .object({
        perSecond: z
          .number()
          .int()
          .min(0)
          .max(10_000_000)
          .default(1000)
          .describe('Sustained requests per second per API key; 0 disables. Default 1000.'),
        burst: z.number().int().min(1).max(10_000_000).default(2000).describe('Requests a key may burst above the rate. Default 2000.'),
      })
      .strict()
      .default({ perSecond: 1000, burst: 2000 })
      .describe('Per-key token bucket. Default 1000/s, burst 2000.'),
    adminTokenSecretRef: secretKeyRef('token')
      .optional()
      .describe('Secret key holding EAP_ADMIN_TOKEN (enables POST /v1/projects). Default: admin routes off.'),
    allowDemoAdminToken: z
      .boolean()
      .default(false)
      .describe(
        "Let the API start with a publicly known demo admin token such as the kind demo's (EAP_ALLOW_DEMO_TOKEN). Only for a local demo. Default false.",
      ),
  })
  .strict();

/**
 * Query serving apart from ingest: the same image with API_SERVE=query in a Deployment and a
 * ClusterIP Service of its own, so heavy analytics never share a process (or its CPU limit) with
 * ingest. The API Deployment then runs with API_SERVE=ingest and answers /v1/query/* with 404.
 */
const Query = z
  .object({
    separate: z
      .boolean()
      .default(false)
      .describe(
        'Serve the query API (/v1/query/*) from its own Deployment and ClusterIP Service `<name>-query` (port 8000); the API then serves ingest, admin and docs only. Turned off, both are deleted and the API serves everything again. Default false.',
      ),
    replicas: z.number().int().min(1).max(100).default(2).describe('Query pods, when separate. Default 2.'),
    resources: Resources.default({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } }).describe(
      'Query container resources. Default requests cpu 250m, memory 256Mi; limit memory 512Mi.',
    ),
  })
  .strict();

const Worker = z
  .object({
    minReplicas: z.number().int().min(0).max(1000).default(1).describe('Fewest worker pods. Default 1.'),
    maxReplicas: z.number().int().min(1).max(1000).default(10).describe('Most worker pods. Default 10.'),
    targetBacklogPerReplica: z
      .number()
      .int()
      .min(1)
      .max(100_000_000)
      .default(10_000)
      .describe('Backlog (lag + pending over all shards) one worker is expected to carry. Default 10000.'),
    pollIntervalSeconds: z.number().int().min(1).max(3600).default(15).describe('How often the backlog is measured. Default 15.'),
    scaleDown: z
      .object({
        stabilizationSeconds: z
          .number()
          .int()
          .min(0)
          .max(3600)
          .default(300)
          .describe('Scale down only to the highest recommendation of this window. Default 300.'),
      })
      .strict()
      .default({ stabilizationSeconds: 300 })
      .describe('Scale-down behaviour.'),
    batchSize: z.number().int().min(1).max(10_000).default(2000).describe('Most events per batch (WORKER_BATCH_SIZE). Default 2000.'),
    resources: Resources.default({ requests: { cpu: '250m', memory: '192Mi' }, limits: { memory: '384Mi' } }).describe(
      'Worker container resources. Default requests cpu 250m, memory 192Mi; limit memory 384Mi.',
    ),
  })
  .strict()
  .meta({
    'x-kubernetes-validations': [
      { rule: 'self.minReplicas <= self.maxReplicas', message: 'worker.minReplicas must be less than or equal to worker.maxReplicas' },
    ],
  });

const Monitoring = z
  .object({
    serviceMonitor: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('Create ServiceMonitors for API and worker (needs the Prometheus Operator CRDs). Default true.'),
        interval: z
          .string()
          .regex(/^([0-9]+(ms|s|m|h))+$/, { error: 'must be a Prometheus duration such as 30s' })
          .default('30s')
          .describe('Scrape interval. Default 30s.'),
        labels: z
          .record(z.string(), z.string())
          .default({})
          .describe('Extra labels, e.g. the release label your Prometheus selects. Default none.'),
      })
      .strict()
      .default({ enabled: true, interval: '30s', labels: {} }),
    prometheusRule: z
      .object({
        enabled: z.boolean().default(true).describe('Create a PrometheusRule with the pipeline alerts. Default true.'),
        labels: z.record(z.string(), z.string()).default({}).describe('Extra labels for the PrometheusRule. Default none.'),
      })
      .strict()
      .default({ enabled: true, labels: {} }),
    grafanaDashboards: z
      .object({
        enabled: z.boolean().default(false).describe('Create dashboard ConfigMaps for the Grafana sidecar. Default false.'),
        labels: z
          .record(z.string(), z.string())
          .default({ grafana_dashboard: '1' })
          .describe('Labels the Grafana sidecar selects. Default {grafana_dashboard: "1"}.'),
      })
      .strict()
      .default({ enabled: false, labels: { grafana_dashboard: '1' } }),
  })
  .strict();

/** A Kubernetes label selector, as in a NetworkPolicy peer. */
const LabelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional().describe('Labels that must all match. Default none.'),
    matchExpressions: z
      .array(
        z
          .object({
            key: z.string().min(1).max(317).describe('Label key.'),
            operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values.'),
            values: z.array(z.string().max(63)).max(64).optional().describe('Values for In and NotIn.'),
          })
          .strict(),
      )
      .max(16)
      .optional()
      .describe('Label expressions that must all hold. Default none.'),
  })
  .strict();

const MetricsPeer = z
  .object({
    namespaceSelector: LabelSelector.optional().describe('Namespaces whose pods may connect; {} is every namespace.'),
    podSelector: LabelSelector.optional().describe(
      'Pods that may connect (in the namespaces of namespaceSelector, or else in the pipeline namespace).',
    ),
  })
  .strict()
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'has(self.namespaceSelector) || has(self.podSelector)',
        message: 'a metricsFrom entry needs a namespaceSelector, a podSelector or both',
      },
    ],
  });

/**
 * NetworkPolicies for the API and worker pods. Off by default: they take effect only where the
 * cluster's network plugin enforces them (kind's default CNI, kindnet, does not), and a policy
 * that the plugin ignores would suggest a protection that is not there.
 */
const NetworkPolicy = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Create NetworkPolicies: API pods accept the public port from anywhere and the admin port only from metricsFrom; workers accept only the admin port, from metricsFrom. Needs a network plugin that enforces NetworkPolicies (kind’s default CNI, kindnet, does not). Default false.',
      ),
    metricsFrom: z
      .array(MetricsPeer)
      .max(16)
      .default([])
      .describe(
        'Who may reach the admin port (9464: /metrics, /livez, /readyz), e.g. [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}, podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}}]. Each entry is a NetworkPolicy peer (namespaceSelector and/or podSelector). Empty: no other pod may (kubelet probes from the node a pod runs on are always allowed). Default [].',
      ),
  })
  .strict();

/** The spec of an EventPipeline: everything the user decides. Every field has a default except the two Secrets. */
export const EventPipelineSpecSchema = z
  .object({
    image: Image.default({
      repository: DEFAULT_IMAGE.repository,
      tag: DEFAULT_IMAGE.tag,
      pullPolicy: 'IfNotPresent',
      pullSecrets: [],
    }).describe('The platform image for the API, workers and migrations.'),
    redis: z.object({ urlSecretRef: secretKeyRef('url').describe('Secret key holding REDIS_URL.') }).strict(),
    postgres: z.object({ urlSecretRef: secretKeyRef('url').describe('Secret key holding DATABASE_URL.') }).strict(),
    streams: z
      .object({
        shards: z
          .number()
          .int()
          .min(1)
          .max(256)
          .default(4)
          .describe('Redis Streams shards (STREAM_SHARDS). May grow, never shrink. Default 4.')
          .meta({
            'x-kubernetes-validations': [
              {
                rule: 'self >= oldSelf',
                message: 'streams.shards cannot be decreased: entries in the removed shards would never be written',
              },
            ],
          }),
      })
      .strict()
      .default({ shards: 4 }),
    api: Api.default({
      replicas: 2,
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      service: { type: 'ClusterIP', port: 8000 },
      rateLimit: { perSecond: 1000, burst: 2000 },
      allowDemoAdminToken: false,
    }),
    query: Query.default({
      separate: false,
      replicas: 2,
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    }).describe('Where the query API is served. Default: by the API pods, with ingest.'),
    worker: Worker.default({
      minReplicas: 1,
      maxReplicas: 10,
      targetBacklogPerReplica: 10_000,
      pollIntervalSeconds: 15,
      scaleDown: { stabilizationSeconds: 300 },
      batchSize: 2000,
      resources: { requests: { cpu: '250m', memory: '192Mi' }, limits: { memory: '384Mi' } },
    }),
    migrations: z
      .object({
        backoffLimit: z.number().int().min(0).max(20).default(2).describe('Retries of a failed migration pod. Default 2.'),
        activeDeadlineSeconds: z.number().int().min(10).max(86_400).default(600).describe('Longest a migration Job may run. Default 600.'),
      })
      .strict()
      .default({ backoffLimit: 2, activeDeadlineSeconds: 600 }),
    monitoring: Monitoring.default({
      serviceMonitor: { enabled: true, interval: '30s', labels: {} },
      prometheusRule: { enabled: true, labels: {} },
      grafanaDashboards: { enabled: false, labels: { grafana_dashboard: '1' } },
    }),
    networkPolicy: NetworkPolicy.default({ enabled: false, metricsFrom: [] }).describe(
      'NetworkPolicies limiting who reaches the pods. Default off.',
    ),
  })
  .strict();

export type EventPipelineSpec = z.infer<typeof EventPipelineSpecSchema>;
export type EventPipelineSpecInput = z.input<typeof EventPipelineSpecSchema>;

/** Condition types on an EventPipeline's status. `Ready` is the summary of the others. */
export const CONDITION_TYPES = [
  'Ready',
  'MigrationsComplete',
  'ApiAvailable',
  'WorkersAvailable',
  'AutoscalerHealthy',
  'ServiceMonitorReady',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

const Condition = z.object({
  type: z.string().min(1).max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().min(1).max(1024),
  message: z.string().max(32_768),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof Condition>;

/** What the operator reports. Written only through the status subresource. */
export const EventPipelineStatusSchema = z.object({
  observedGeneration: z.number().int().optional().describe('The metadata.generation this status describes.'),
  conditions: z
    .array(Condition)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  /** The image whose migrations completed and that the API and workers run. */
  servingImage: z.string().optional().describe('The image the API and workers run (its migrations completed).'),
  workers: z
    .object({
      replicas: z.number().int().optional().describe('Worker replicas now.'),
      desiredReplicas: z.number().int().optional().describe('What the autoscaler recommends.'),
      backlog: z.number().int().optional().describe('Lag + pending summed over shards at the last measurement.'),
      lastScaleTime: z.string().optional().describe('When the autoscaler last changed the replicas.'),
    })
    .optional(),
});
export type EventPipelineStatus = z.infer<typeof EventPipelineStatusSchema>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

/** An EventPipeline as the operator works with it: spec already defaulted and validated. */
export interface EventPipeline {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: EventPipelineSpec;
  status?: EventPipelineStatus;
}
