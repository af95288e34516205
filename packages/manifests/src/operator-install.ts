/**
 * The operator's installation (everything but the CRD) from cdk8s-plus-28 constructs. The Helm
 * chart charts/eap-operator templates the same objects; a test compares both renderings.
 *
 * cdk8s-plus brings defaults of its own; each one is either taken on purpose (the ServiceAccount
 * does not mount a token, the pod asks for one) or undone here, so that the output is what the
 * chart renders: no `cdk8s.io/metadata.addr` label, our resources instead of its 1 CPU / 512 MiB,
 * no startup probe, and nothing the API server defaults anyway (strategy, dnsPolicy, Service type…).
 * What cdk8s-plus models differently from Kubernetes' own shapes (nodeSelector, tolerations,
 * affinity, imagePullSecrets, topology spread) is passed through as the chart's values give it.
 */
import { ApiObject, App, Chart, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, type IConstruct } from 'constructs';
import {
  overrideDeploymentDefaults,
  overridePodTemplate,
  overrideServiceDefaults,
  type ResourceRequirements,
} from './cdk8s-plus-defaults.ts';
import { DEFAULT_IMAGE, EVENT_PIPELINE } from './event-pipeline.schema.ts';

/** Kubernetes JSON given by the user and passed through unchanged (a toleration, an affinity). */
export type KubeJson = Record<string, unknown>;

/** Options of the operator installation; the Helm chart's values.yaml has the same defaults. */
export interface OperatorInstallOptions {
  /** Namespace the operator runs in (its Lease lives there). Default `eap-system`. */
  namespace?: string;
  /** Name of the objects (Helm: `eap-operator` for a release of that name, else `<release>-eap-operator`). Default `eap-operator`. */
  name?: string;
  /** Value of `app.kubernetes.io/instance`, part of the pod selector (Helm: the release name). Default: `name`. */
  instance?: string;
  /** Operator image. Default ghcr.io/eap-dev/eap-operator:<release>, pull policy IfNotPresent. */
  image?: { repository?: string; tag?: string; pullPolicy?: string };
  /** Secrets of type kubernetes.io/dockerconfigjson to pull the image with. Default none. */
  imagePullSecrets?: Array<{ name: string }>;
  /** Operator pods; one leads, the others wait on the Lease. Default 2. */
  replicas?: number;
  /** Port of /metrics, /livez and /readyz. Default 8080. */
  metricsPort?: number;
  /**
   * Watch only this namespace's EventPipelines; default all namespaces. When set, the rules that
   * reconcile pipelines (Secrets included) are a Role in this namespace, not a ClusterRole.
   */
  watchNamespace?: string;
  /** Log level. Default info. */
  logLevel?: string;
  /** The operator container's requests and limits. Default requests 50m CPU and 192Mi, limit 384Mi. */
  resources?: ResourceRequirements;
  /** Node labels the pods must match. Default none. */
  nodeSelector?: Record<string, string>;
  /** Tolerations of the pods (Kubernetes' own shape). Default none. */
  tolerations?: KubeJson[];
  /** Affinity of the pods (Kubernetes' own shape). Default none (a topology spread keeps replicas apart). */
  affinity?: KubeJson;
  /** PriorityClass of the pods. Default none. */
  priorityClassName?: string;
  /** Annotations of the pods. Default none. */
  podAnnotations?: Record<string, string>;
  /** Extra labels of the pods (never in the selector). Default none. */
  podLabels?: Record<string, string>;
  /**
   * The ServiceAccount the operator runs as. `create` false: an existing one, `name` (default
   * `default`), still bound to the operator's roles. `annotations`, e.g. for IRSA or workload identity.
   * Default: created, named like the other objects.
   */
  serviceAccount?: { create?: boolean; name?: string; annotations?: Record<string, string> };
  /**
   * A PodDisruptionBudget keeping `minAvailable` operator pods through voluntary disruptions
   * (node drains). Only with more than one replica: with one it would block every drain.
   * Default enabled, minAvailable 1.
   */
  podDisruptionBudget?: { enabled?: boolean; minAvailable?: number | string };
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
  resources: { requests: { cpu: '50m', memory: '192Mi' }, limits: { memory: '384Mi' } },
  podDisruptionBudget: { enabled: true, minAvailable: 1 },
} as const;

/** Name of the Lease the operator replicas compete for. */
export const LEADER_LEASE_NAME = 'eap-operator-leader';

/** One RBAC rule (one resource per rule, as cdk8s-plus writes them). */
export type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] } | { nonResourceURLs: string[]; verbs: string[] };

const ALL_READ = ['get', 'list', 'watch'];
const MANAGE = [...ALL_READ, 'create', 'patch', 'delete'];

/**
 * Least-privilege rules for reconciling EventPipelines: what it needs and nothing else (no delete
 * except for objects it turns off, Secrets only by name, never listed). Granted by the ClusterRole
 * when the operator watches every namespace, by a Role in the watched namespace when it watches
 * one. The operator's tests run it with exactly these rules.
 */
export const OPERATOR_PIPELINE_RULES: PolicyRule[] = [
  { apiGroups: [EVENT_PIPELINE.group], resources: [EVENT_PIPELINE.plural], verbs: ALL_READ },
  { apiGroups: [EVENT_PIPELINE.group], resources: [`${EVENT_PIPELINE.plural}/status`], verbs: ['get', 'patch', 'update'] },
  // Needed to set blockOwnerDeletion on children where OwnerReferencesPermissionEnforcement is on.
  { apiGroups: [EVENT_PIPELINE.group], resources: [`${EVENT_PIPELINE.plural}/finalizers`], verbs: ['update'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: MANAGE },
  { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: MANAGE },
  { apiGroups: [''], resources: ['services'], verbs: MANAGE },
  { apiGroups: [''], resources: ['configmaps'], verbs: MANAGE },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: MANAGE },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'create', 'patch', 'delete'] },
  { apiGroups: ['monitoring.coreos.com'], resources: ['servicemonitors'], verbs: MANAGE },
  { apiGroups: ['monitoring.coreos.com'], resources: ['prometheusrules'], verbs: MANAGE },
];

/**
 * What is cluster-wide in every mode: asking discovery whether the Prometheus Operator's kinds are
 * served (most clusters grant discovery to every authenticated client through system:discovery;
 * this rule keeps the operator working where that binding was narrowed).
 */
export const OPERATOR_DISCOVERY_RULES: PolicyRule[] = [{ nonResourceURLs: ['/apis/monitoring.coreos.com/v1'], verbs: ['get'] }];

/** Rules in the operator's own namespace: the leader-election Lease. */
export const OPERATOR_NAMESPACE_RULES: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** Adds each rule to a Role or ClusterRole construct. */
function allow(role: kplus.Role | kplus.ClusterRole, rules: PolicyRule[]): void {
  for (const rule of rules) {
    if ('nonResourceURLs' in rule) {
      (role as kplus.ClusterRole).allow(rule.verbs, ...rule.nonResourceURLs.map((url) => kplus.NonApiResource.of(url)));
      continue;
    }
    const [apiGroup = '', resourceType = ''] = [rule.apiGroups[0], rule.resources[0]];
    role.allow(rule.verbs, kplus.ApiResource.custom({ apiGroup, resourceType }));
  }
}

/** Removes what cdk8s-plus writes at these JSON pointers of its typed props (cdk8s-plus-defaults.ts). */
function drop(construct: IConstruct, ...paths: string[]): void {
  ApiObject.of(construct).addJsonPatch(...paths.map((path) => JsonPatch.remove(path)));
}

const METRICS_PORT_NAME = 'metrics';

const nonEmptyMap = (record: Record<string, string> | undefined) => (record && Object.keys(record).length > 0 ? record : undefined);

/**
 * Everything that installs the operator (besides the CRD): ServiceAccount, ClusterRole and
 * binding, Role and binding for the Lease, with `watchNamespace` a Role and binding there holding
 * the pipeline rules (the ClusterRole then keeps only discovery), Deployment, metrics Service,
 * PodDisruptionBudget with more than one replica, and the optional ServiceMonitor.
 */
export class OperatorInstall extends Construct {
  constructor(scope: Construct, id: string, options: OperatorInstallOptions = {}) {
    super(scope, id);
    const namespace = options.namespace ?? OPERATOR_DEFAULTS.namespace;
    const name = options.name ?? OPERATOR_DEFAULTS.name;
    const image = { ...OPERATOR_DEFAULTS.image, ...options.image };
    const metricsPort = options.metricsPort ?? OPERATOR_DEFAULTS.metricsPort;
    const replicas = options.replicas ?? OPERATOR_DEFAULTS.replicas;
    const selector = { 'app.kubernetes.io/name': 'eap-operator', 'app.kubernetes.io/instance': options.instance ?? name };
    const labels = { ...selector, 'app.kubernetes.io/part-of': 'eap', 'app.kubernetes.io/version': image.tag };
    const meta = (objectName: string, objectNamespace?: string) => ({ name: objectName, namespace: objectNamespace, labels });

    const serviceAccount = this.serviceAccount(options.serviceAccount, name, namespace, labels);

    const clusterRole = new kplus.ClusterRole(this, 'cluster-role', { metadata: meta(name) });
    const clusterRules = options.watchNamespace ? OPERATOR_DISCOVERY_RULES : [...OPERATOR_PIPELINE_RULES, ...OPERATOR_DISCOVERY_RULES];
    allow(clusterRole, clusterRules);
    // cdk8s-plus writes `resourceNames: []` on every resource rule of a ClusterRole.
    drop(clusterRole, ...clusterRules.flatMap((rule, index) => ('resources' in rule ? [`/rules/${index}/resourceNames`] : [])));
    const clusterBinding = new kplus.ClusterRoleBinding(this, 'cluster-role-binding', { metadata: meta(name), role: clusterRole });
    clusterBinding.addSubjects(serviceAccount);
    drop(clusterBinding, '/subjects/0/apiGroup');

    this.role('leader-election', meta(`${name}-leader-election`, namespace), OPERATOR_NAMESPACE_RULES, serviceAccount);
    if (options.watchNamespace) this.role('watched', meta(name, options.watchNamespace), OPERATOR_PIPELINE_RULES, serviceAccount);

    const deployment = new kplus.Deployment(this, 'deployment', {
      metadata: meta(name, namespace),
      replicas,
      select: false,
      podMetadata: { labels: { ...options.podLabels, ...labels }, annotations: nonEmptyMap(options.podAnnotations) },
      serviceAccount,
      // The ServiceAccount mounts no token by default (cdk8s-plus); the operator pod needs one.
      automountServiceAccountToken: true,
      securityContext: { ensureNonRoot: true, user: 1000, group: 1000 },
      terminationGracePeriod: Duration.seconds(30),
      containers: [
        {
          name: 'operator',
          image: `${image.repository}:${image.tag}`,
          imagePullPolicy: image.pullPolicy as kplus.ImagePullPolicy,
          envVariables: {
            POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
            POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
            METRICS_PORT: kplus.EnvValue.fromValue(String(metricsPort)),
            LOG_LEVEL: kplus.EnvValue.fromValue(options.logLevel ?? OPERATOR_DEFAULTS.logLevel),
            ...(options.watchNamespace ? { WATCH_NAMESPACE: kplus.EnvValue.fromValue(options.watchNamespace) } : {}),
          },
          ports: [{ name: METRICS_PORT_NAME, number: metricsPort, protocol: kplus.Protocol.TCP }],
          liveness: kplus.Probe.fromHttpGet('/livez', { port: metricsPort, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
          readiness: kplus.Probe.fromHttpGet('/readyz', { port: metricsPort, periodSeconds: Duration.seconds(5), failureThreshold: 3 }),
          // None of cdk8s-plus's 1 CPU / 512 MiB: ours, exactly (overridePodTemplate).
          resources: {},
          securityContext: {
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: [kplus.Capability.ALL] },
          },
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels: selector }));
    overrideDeploymentDefaults(deployment);
    const resources = options.resources ?? OPERATOR_DEFAULTS.resources;
    const nonEmpty = (value: unknown) =>
      value !== undefined && value !== '' && !(typeof value === 'object' && value !== null && Object.keys(value).length === 0);
    overridePodTemplate(deployment, {
      add: Object.fromEntries(
        Object.entries({
          'securityContext/seccompProfile': { type: 'RuntimeDefault' },
          // Spread the replicas so one node failure leaves a standby to take the Lease.
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
          ],
          // Kubernetes' own shapes, as the chart's values give them (cdk8s-plus's scheduling API writes affinities instead).
          imagePullSecrets: options.imagePullSecrets,
          nodeSelector: options.nodeSelector,
          tolerations: options.tolerations,
          affinity: options.affinity,
          priorityClassName: options.priorityClassName,
        }).filter(([, value]) => nonEmpty(value)),
      ),
      // No resources at all when given none (`resources: {}`), as the chart renders `resources: null`.
      containers: [{ resources: nonEmpty(resources) ? resources : undefined }],
    });
    // The operator's probes are HTTP liveness and readiness on the metrics port, by its name; no
    // startup probe (cdk8s-plus adds a TCP one) and no rollout strategy but the API's default.
    const container = '/spec/template/spec/containers/0';
    ApiObject.of(deployment).addJsonPatch(
      JsonPatch.remove('/spec/strategy'),
      JsonPatch.remove(`${container}/startupProbe`),
      ...['livenessProbe', 'readinessProbe'].flatMap((probe) => [
        JsonPatch.replace(`${container}/${probe}/httpGet/port`, { value: METRICS_PORT_NAME }),
        JsonPatch.remove(`${container}/${probe}/httpGet/scheme`),
      ]),
    );

    const service = new kplus.Service(this, 'metrics-service', {
      metadata: meta(`${name}-metrics`, namespace),
      ports: [{ name: METRICS_PORT_NAME, port: metricsPort, targetPort: metricsPort, protocol: kplus.Protocol.TCP }],
    });
    for (const [key, value] of Object.entries(selector)) service.selectLabel(key, value);
    overrideServiceDefaults(service, [METRICS_PORT_NAME]);
    // ClusterIP, the API's default, stays unwritten.
    ApiObject.of(service).addJsonPatch(JsonPatch.remove('/spec/type'));

    const budget = { ...OPERATOR_DEFAULTS.podDisruptionBudget, ...options.podDisruptionBudget };
    if (budget.enabled && replicas > 1) {
      new kplus.k8s.KubePodDisruptionBudget(this, 'disruption-budget', {
        metadata: meta(name, namespace),
        spec: {
          minAvailable:
            typeof budget.minAvailable === 'number'
              ? kplus.k8s.IntOrString.fromNumber(budget.minAvailable)
              : kplus.k8s.IntOrString.fromString(budget.minAvailable),
          selector: { matchLabels: selector },
        },
      });
    }

    if (options.serviceMonitor?.enabled) {
      new ApiObject(this, 'service-monitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name, namespace, labels: { ...labels, ...options.serviceMonitor.labels } },
        spec: {
          selector: { matchLabels: selector },
          endpoints: [{ port: 'metrics', path: '/metrics', interval: options.serviceMonitor.interval ?? '30s' }],
        },
      });
    }
  }

  /** The operator's ServiceAccount: created here (no token mounted unless a pod asks), or an existing one by name. */
  private serviceAccount(
    options: OperatorInstallOptions['serviceAccount'],
    name: string,
    namespace: string,
    labels: Record<string, string>,
  ): kplus.IServiceAccount {
    if (options?.create === false) {
      return kplus.ServiceAccount.fromServiceAccountName(this, 'service-account', options.name || 'default', { namespaceName: namespace });
    }
    return new kplus.ServiceAccount(this, 'service-account', {
      metadata: { name: options?.name || name, namespace, labels, annotations: nonEmptyMap(options?.annotations) },
      automountToken: false,
    });
  }

  /** A Role with `rules` and its RoleBinding (same name) to the operator's ServiceAccount. */
  private role(
    id: string,
    metadata: { name: string; namespace?: string; labels: Record<string, string> },
    rules: PolicyRule[],
    subject: kplus.IServiceAccount,
  ) {
    const role = new kplus.Role(this, `${id}-role`, { metadata });
    allow(role, rules);
    const binding = new kplus.RoleBinding(this, `${id}-role-binding`, { metadata, role });
    binding.addSubjects(subject);
    drop(binding, '/subjects/0/apiGroup');
  }
}

/**
 * The operator install as plain Kubernetes JSON objects, synthesized from an in-memory cdk8s
 * chart. The cdk8s app writes these to operator.k8s.yaml; the Helm chart templates the same
 * objects and a test compares both renderings.
 */
export function buildOperatorInstall(options: OperatorInstallOptions = {}): Array<Record<string, unknown>> {
  const chart = new Chart(new App(), 'operator', { disableResourceNameHashes: true });
  new OperatorInstall(chart, 'install', options);
  return chart.toJson() as Array<Record<string, unknown>>;
}
