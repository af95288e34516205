import { DEFAULT_IMAGE, EVENT_PIPELINE } from './event-pipeline.schema.ts';

/** Options of the operator installation; the Helm chart's values.yaml has the same defaults. */
export interface OperatorInstallOptions {
  /** Namespace the operator runs in (its Lease lives there). Default `eap-system`. */
  namespace?: string;
  /** Name prefix of every object. Default `eap-operator`. */
  name?: string;
  /** Operator image. Default ghcr.io/eap-dev/eap-operator:<release>. */
  image?: { repository?: string; tag?: string; pullPolicy?: string };
  /** Operator pods; one leads, the others wait on the Lease. Default 2. */
  replicas?: number;
  /** Port of /metrics and /healthz. Default 8080. */
  metricsPort?: number;
  /**
   * Watch only this namespace's EventPipelines; default all namespaces. When set, the rules that
   * reconcile pipelines (Secrets included) are a Role in this namespace, not a ClusterRole.
   */
  watchNamespace?: string;
  /** Log level. Default info. */
  logLevel?: string;
  /** A ServiceMonitor for the operator's own metrics (needs the Prometheus Operator CRDs). Default false. */
  serviceMonitor?: { enabled?: boolean; interval?: string; labels?: Record<string, string> };
}

export const OPERATOR_DEFAULTS = {
  namespace: 'eap-system',
  name: 'eap-operator',
  image: { repository: 'ghcr.io/eap-dev/eap-operator', tag: DEFAULT_IMAGE.tag, pullPolicy: 'IfNotPresent' },
  replicas: 2,
  metricsPort: 8080,
  logLevel: 'info',
} as const;

/** Name of the Lease the operator replicas compete for. */
export const LEADER_LEASE_NAME = 'eap-operator-leader';

const ALL_READ = ['get', 'list', 'watch'];

/**
 * Least-privilege rules for reconciling EventPipelines: what it needs and nothing else (no delete
 * except for objects it turns off, Secrets only by name, never listed). Granted by the ClusterRole
 * when the operator watches every namespace, by a Role in the watched namespace when it watches
 * one. The operator's tests run it with exactly these rules.
 */
export const OPERATOR_PIPELINE_RULES = [
  { apiGroups: [EVENT_PIPELINE.group], resources: [EVENT_PIPELINE.plural], verbs: ALL_READ },
  { apiGroups: [EVENT_PIPELINE.group], resources: [`${EVENT_PIPELINE.plural}/status`], verbs: ['get', 'patch', 'update'] },
  // Needed to set blockOwnerDeletion on children where OwnerReferencesPermissionEnforcement is on.
  { apiGroups: [EVENT_PIPELINE.group], resources: [`${EVENT_PIPELINE.plural}/finalizers`], verbs: ['update'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: [...ALL_READ, 'create', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: [...ALL_READ, 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['services'], verbs: [...ALL_READ, 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: [...ALL_READ, 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: [...ALL_READ, 'create', 'patch', 'delete'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'create', 'patch', 'delete'] },
  {
    apiGroups: ['monitoring.coreos.com'],
    resources: ['servicemonitors', 'prometheusrules'],
    verbs: [...ALL_READ, 'create', 'patch', 'delete'],
  },
];

/**
 * What is cluster-wide in every mode: asking discovery whether the Prometheus Operator's kinds are
 * served (most clusters grant discovery to every authenticated client through system:discovery;
 * this rule keeps the operator working where that binding was narrowed).
 */
export const OPERATOR_DISCOVERY_RULES = [{ nonResourceURLs: ['/apis/monitoring.coreos.com/v1'], verbs: ['get'] }];

/** Rules in the operator's own namespace: the leader-election Lease. */
export const OPERATOR_NAMESPACE_RULES = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }];

/**
 * Everything that installs the operator (besides the CRD): ServiceAccount, ClusterRole and
 * binding, Role and binding for the Lease, with `watchNamespace` a Role and binding there holding
 * the pipeline rules (the ClusterRole then keeps only discovery), Deployment, metrics Service and
 * optional ServiceMonitor.
 * The cdk8s app synthesizes these; the Helm chart templates the same objects and a test compares
 * both renderings at default values.
 */
export function buildOperatorInstall(options: OperatorInstallOptions = {}) {
  const namespace = options.namespace ?? OPERATOR_DEFAULTS.namespace;
  const name = options.name ?? OPERATOR_DEFAULTS.name;
  const image = { ...OPERATOR_DEFAULTS.image, ...options.image };
  const metricsPort = options.metricsPort ?? OPERATOR_DEFAULTS.metricsPort;
  const selector = { 'app.kubernetes.io/name': 'eap-operator', 'app.kubernetes.io/instance': name };
  const labels = { ...selector, 'app.kubernetes.io/part-of': 'eap', 'app.kubernetes.io/version': image.tag };
  const meta = (objectName: string) => ({ name: objectName, namespace, labels });
  const env = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'METRICS_PORT', value: String(metricsPort) },
    { name: 'LOG_LEVEL', value: options.logLevel ?? OPERATOR_DEFAULTS.logLevel },
    ...(options.watchNamespace ? [{ name: 'WATCH_NAMESPACE', value: options.watchNamespace }] : []),
  ];
  const watched = options.watchNamespace;
  const clusterRules = watched ? OPERATOR_DISCOVERY_RULES : [...OPERATOR_PIPELINE_RULES, ...OPERATOR_DISCOVERY_RULES];
  const objects: Array<Record<string, unknown>> = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name) },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: clusterRules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(`${name}-leader-election`),
      rules: OPERATOR_NAMESPACE_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(`${name}-leader-election`),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-leader-election` },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        replicas: options.replicas ?? OPERATOR_DEFAULTS.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            serviceAccountName: name,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            // Spread the replicas so one node failure leaves a standby to take the Lease.
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: selector },
              },
            ],
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'operator',
                image: `${image.repository}:${image.tag}`,
                imagePullPolicy: image.pullPolicy,
                env,
                ports: [{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }],
                livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 5 },
                resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`${name}-metrics`),
      spec: { selector, ports: [{ name: 'metrics', port: metricsPort, targetPort: 'metrics', protocol: 'TCP' }] },
    },
  ];
  if (watched) {
    objects.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name, namespace: watched, labels },
        rules: OPERATOR_PIPELINE_RULES,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace: watched, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    );
  }
  if (options.serviceMonitor?.enabled) {
    objects.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name, namespace, labels: { ...labels, ...options.serviceMonitor.labels } },
      spec: {
        selector: { matchLabels: selector },
        endpoints: [{ port: 'metrics', path: '/metrics', interval: options.serviceMonitor.interval ?? '30s' }],
      },
    });
  }
  return objects;
}
