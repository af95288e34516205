import { describe, expect, it } from 'vitest';
import { buildOperatorInstall, OPERATOR_DEFAULTS } from './operator-install.ts';

type Json = Record<string, unknown>;
const objects = (options: Parameters<typeof buildOperatorInstall>[0] = {}) => buildOperatorInstall(options);
const ofKind = (all: Json[], kind: string) => all.filter((object) => object.kind === kind);
/** The value at a dotted path (`spec.template.spec.containers.0`). */
const at = (object: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);
const deploymentOf = (all: Json[]) => ofKind(all, 'Deployment')[0];
const podSpec = (all: Json[]) => at(deploymentOf(all), 'spec.template.spec');
const container = (all: Json[]) => at(podSpec(all), 'containers.0');

describe('buildOperatorInstall (cdk8s-plus-28 constructs)', () => {
  it('keeps none of the defaults cdk8s-plus adds on its own', () => {
    const all = objects();
    const text = JSON.stringify(all);
    expect(text).not.toContain('cdk8s.io/metadata.addr');
    expect(text).not.toContain('startupProbe');
    expect(text).not.toContain('resourceNames');
    expect(at(container(all), 'resources')).toEqual(OPERATOR_DEFAULTS.resources);
    expect(at(container(all), 'securityContext')).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(at(podSpec(all), 'securityContext')).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('probes liveness on /livez and readiness on /readyz of the metrics port, by its name', () => {
    const operator = container(objects({ metricsPort: 9090 }));
    expect(at(operator, 'ports')).toEqual([{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }]);
    expect(at(operator, 'livenessProbe.httpGet')).toEqual({ path: '/livez', port: 'metrics' });
    expect(at(operator, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'metrics' });
  });

  it('selects the pods by name and instance only, the same way in the Deployment, Service, PDB and spread', () => {
    const all = objects({ name: 'shop-eap-operator', instance: 'shop', podLabels: { team: 'data', 'app.kubernetes.io/name': 'x' } });
    const selector = { 'app.kubernetes.io/name': 'eap-operator', 'app.kubernetes.io/instance': 'shop' };
    const deployment = deploymentOf(all);
    expect(at(deployment, 'spec.selector')).toEqual({ matchLabels: selector });
    expect(at(deployment, 'spec.template.spec.topologySpreadConstraints.0.labelSelector')).toEqual({ matchLabels: selector });
    expect(at(ofKind(all, 'Service')[0], 'spec.selector')).toEqual(selector);
    expect(at(ofKind(all, 'PodDisruptionBudget')[0], 'spec.selector')).toEqual({ matchLabels: selector });
    // Extra pod labels never override the selector's.
    expect(at(deployment, 'spec.template.metadata.labels')).toMatchObject({ ...selector, team: 'data' });
  });

  it('runs as an existing ServiceAccount when asked, still bound to the roles', () => {
    const all = objects({ serviceAccount: { create: false, name: 'platform-operator' }, watchNamespace: 'shop' });
    expect(ofKind(all, 'ServiceAccount')).toEqual([]);
    expect(at(podSpec(all), 'serviceAccountName')).toBe('platform-operator');
    const bindings = [...ofKind(all, 'ClusterRoleBinding'), ...ofKind(all, 'RoleBinding')];
    expect(bindings).toHaveLength(3);
    for (const binding of bindings) {
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'platform-operator', namespace: 'eap-system' }]);
    }
  });

  it('annotates the ServiceAccount it creates (IRSA, workload identity); it mounts no token, the operator pod asks for one', () => {
    const all = objects({ serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/eap' } } });
    const [account] = ofKind(all, 'ServiceAccount');
    expect(at(account, 'metadata.annotations')).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/eap' });
    expect(at(account, 'automountServiceAccountToken')).toBe(false);
    expect(at(podSpec(all), 'automountServiceAccountToken')).toBe(true);
  });

  it('has a PodDisruptionBudget with more than one replica only, unless turned off', () => {
    expect(at(ofKind(objects(), 'PodDisruptionBudget')[0], 'spec.minAvailable')).toBe(1);
    expect(ofKind(objects({ replicas: 1 }), 'PodDisruptionBudget')).toEqual([]);
    expect(ofKind(objects({ podDisruptionBudget: { enabled: false } }), 'PodDisruptionBudget')).toEqual([]);
    const percent = objects({ replicas: 3, podDisruptionBudget: { minAvailable: '50%' } });
    expect(at(ofKind(percent, 'PodDisruptionBudget')[0], 'spec.minAvailable')).toBe('50%');
  });

  it('passes scheduling settings through in Kubernetes’ own shapes', () => {
    const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }];
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }],
        },
      },
    };
    const all = objects({
      tolerations,
      affinity,
      nodeSelector: { pool: 'ops' },
      priorityClassName: 'system-cluster-critical',
      imagePullSecrets: [{ name: 'registry' }],
      resources: { requests: { cpu: 1, memory: '128Mi' } },
    });
    expect(podSpec(all)).toMatchObject({
      tolerations,
      affinity,
      nodeSelector: { pool: 'ops' },
      priorityClassName: 'system-cluster-critical',
      imagePullSecrets: [{ name: 'registry' }],
    });
    expect(at(container(all), 'resources')).toEqual({ requests: { cpu: 1, memory: '128Mi' } });
  });
});
