/**
 * The Helm chart charts/eap-operator: lint, schema-checked values, every value landing where it
 * should, the same objects as the cdk8s rendering (packages/manifests/src/operator-install.ts),
 * a server-side dry run of every rendered object against the real API server, the Deployment
 * selector across an upgrade from chart 0.1.0, and its `helm test` pod's checks run against the
 * real API server with the ServiceAccount the chart gives them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuthorizationV1Api, CoreV1Api, PatchStrategy } from '@kubernetes/client-node';
import { buildOperatorInstall, type OperatorInstallOptions } from '@eap/manifests';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { synth } from '../../cdk8s/app.ts';
import { readToolManifest } from '../../scripts/k8s/tool-manifest.ts';
import { refusalOf, TestKube } from './support/kube-client.ts';
import { createNamespace, installCrd, type Manifest, randomSuffix, renderChart, rootPath } from './support/operator-harness.ts';

const kube = TestKube.fromKubeconfig(inject('kubeconfig'));
const execFileAsync = promisify(execFile);
let namespace: string;
let removeNamespace: () => Promise<void>;

beforeAll(async () => {
  await installCrd(kube);
  ({ name: namespace, remove: removeNamespace } = await createNamespace(kube, 'chart'));
});
afterAll(async () => {
  await removeNamespace?.();
});

type Json = Record<string, unknown>;
/** The value at a dotted path (`spec.template.spec.containers.0`). */
const at = (object: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value as Json | undefined)?.[key], object);
const byKindAndName = (objects: Json[]) =>
  [...objects].sort((a, b) => `${a.kind}/${at(a, 'metadata.name')}`.localeCompare(`${b.kind}/${at(b, 'metadata.name')}`));
const isHelmTest = (object: Manifest) => (object.metadata.annotations as Json | undefined)?.['helm.sh/hook'] === 'test';
const one = (objects: Manifest[], kind: string, name?: string) => {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  if (found.length !== 1) throw new Error(`${found.length} ${kind} ${name ?? ''} rendered, expected one`);
  return found[0] as Manifest;
};

/**
 * Labels only Helm writes: the chart version and `managed-by: Helm` (a cdk8s user applies the
 * objects with a tool of their own choosing). Every other label is the same in both renderings.
 */
const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by'];

/** The objects Helm installs, as the cdk8s rendering has them: no `helm test` objects, no Helm-only labels. */
function asCdk8sRenders(objects: Manifest[]): Json[] {
  return objects
    .filter((object) => !isHelmTest(object))
    .map((object) => {
      const labels = { ...(object.metadata.labels as Record<string, string>) };
      for (const label of HELM_ONLY_LABELS) {
        expect(labels[label], `${object.kind}/${object.metadata.name} has ${label}`).toBeDefined();
        delete labels[label];
      }
      return { ...object, metadata: { ...object.metadata, labels } };
    });
}

/** Every value of the chart set to something else than its default, as `--set` and as the cdk8s options. */
function everyValue(watchNamespace: string) {
  const sets = [
    'image.repository=registry.example/eap-operator',
    'image.tag=1.2.3',
    'image.pullPolicy=Always',
    'imagePullSecrets[0].name=registry',
    'replicaCount=3',
    'metricsPort=9090',
    `watchNamespace=${watchNamespace}`,
    'logLevel=debug',
    'serviceAccount.name=eap-ops',
    'serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/eap',
    'resources.requests.cpu=100m',
    'resources.requests.memory=128Mi',
    'resources.limits.memory=512Mi',
    'nodeSelector.kubernetes\\.io/os=linux',
    'tolerations[0].key=dedicated',
    'tolerations[0].operator=Equal',
    'tolerations[0].value=ops',
    'tolerations[0].effect=NoSchedule',
    'affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight=50',
    'affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].key=pool',
    'affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].operator=In',
    'affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values[0]=ops',
    'priorityClassName=eap-critical',
    'podAnnotations.example\\.com/owner=data-team',
    'podLabels.team=data',
    'podDisruptionBudget.minAvailable=2',
  ];
  const options: OperatorInstallOptions = {
    name: 'shop-eap-operator',
    instance: 'shop',
    image: { repository: 'registry.example/eap-operator', tag: '1.2.3', pullPolicy: 'Always' },
    imagePullSecrets: [{ name: 'registry' }],
    replicas: 3,
    metricsPort: 9090,
    watchNamespace,
    logLevel: 'debug',
    serviceAccount: { name: 'eap-ops', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/eap' } },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 50, preference: { matchExpressions: [{ key: 'pool', operator: 'In', values: ['ops'] }] } },
        ],
      },
    },
    priorityClassName: 'eap-critical',
    podAnnotations: { 'example.com/owner': 'data-team' },
    podLabels: { team: 'data' },
    podDisruptionBudget: { minAvailable: 2 },
  };
  return { sets, options };
}

const RELEASE = 'shop';

describe('Helm chart eap-operator', () => {
  it('passes helm lint --strict, at default values and with every value set', async () => {
    const { helm } = readToolManifest(['helm']).tools;
    const chart = rootPath('charts/eap-operator');
    const { stdout } = await execFileAsync(helm?.path ?? 'helm', ['lint', '--strict', chart]);
    expect(stdout).toContain('0 chart(s) failed');
    const sets = [...everyValue('shop').sets, 'serviceMonitor.enabled=true', 'sample.enabled=true'].flatMap((s) => ['--set', s]);
    const withValues = await execFileAsync(helm?.path ?? 'helm', ['lint', '--strict', chart, ...sets]);
    expect(withValues.stdout).toContain('0 chart(s) failed');
  });

  it('refuses values its values.schema.json does not allow', async () => {
    await expect(renderChart(namespace, ['replicaCount=0'])).rejects.toThrow(/replicaCount/);
    await expect(renderChart(namespace, ['image.pullPolicy=Sometimes'])).rejects.toThrow(/pullPolicy/);
    await expect(renderChart(namespace, ['podDisruptionBudget.minAvailable=half'])).rejects.toThrow(/minAvailable/);
    await expect(renderChart(namespace, ['imagePullSecrets[0].secret=registry'])).rejects.toThrow(/imagePullSecrets/);
    await expect(renderChart(namespace, ['serviceAccount.create=maybe'])).rejects.toThrow(/create/);
  });

  it('renders at default values exactly what the cdk8s app synthesizes (operator.k8s.yaml of make synth), but Helm’s own', async () => {
    const helm = await renderChart('eap-system');
    const dir = mkdtempSync(join(tmpdir(), 'eap-synth-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    synth(dir);
    const synthesized = parseAllDocuments(readFileSync(join(dir, 'operator.k8s.yaml'), 'utf8')).map((doc) => doc.toJS() as Json);
    expect(byKindAndName(asCdk8sRenders(helm))).toEqual(byKindAndName(synthesized));
    expect(helm.filter(isHelmTest).map((object) => object.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding', 'Pod']);
  });

  it.each([
    ['every value set', everyValue('shop')],
    [
      'the ServiceMonitor on',
      {
        sets: ['serviceMonitor.enabled=true', 'serviceMonitor.interval=15s', 'serviceMonitor.labels.release=prom'],
        options: { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } } },
      },
    ],
    [
      'an existing ServiceAccount and one replica',
      {
        sets: ['serviceAccount.create=false', 'serviceAccount.name=platform', 'replicaCount=1'],
        options: { serviceAccount: { create: false, name: 'platform' }, replicas: 1 },
      },
    ],
    [
      'no PodDisruptionBudget and no resources',
      {
        sets: ['podDisruptionBudget.enabled=false', 'resources=null'],
        options: { podDisruptionBudget: { enabled: false }, resources: {} },
      },
    ],
  ] as Array<[string, { sets: string[]; options: OperatorInstallOptions }]>)(
    'renders what the cdk8s rendering builds with %s',
    async (_, { sets, options }) => {
      const release = options.instance ?? 'eap-operator';
      const helm = await renderChart('ops', sets, release);
      const cdk8s = buildOperatorInstall({ namespace: 'ops', ...options });
      expect(byKindAndName(asCdk8sRenders(helm))).toEqual(byKindAndName(cdk8s));
    },
  );

  it('puts every value where it belongs', async () => {
    const rendered = await renderChart('ops', [...everyValue('shop').sets, 'serviceMonitor.enabled=true'], RELEASE);
    const name = 'shop-eap-operator';
    const standard = {
      'app.kubernetes.io/name': 'eap-operator',
      'app.kubernetes.io/instance': RELEASE,
      'app.kubernetes.io/version': '1.2.3',
      'app.kubernetes.io/part-of': 'eap',
      'app.kubernetes.io/managed-by': 'Helm',
      'helm.sh/chart': 'eap-operator-0.2.0',
    };
    for (const object of rendered.filter((o) => !isHelmTest(o))) expect(object.metadata.labels, object.kind).toMatchObject(standard);

    const deployment = one(rendered, 'Deployment', name);
    const selector = { 'app.kubernetes.io/name': 'eap-operator', 'app.kubernetes.io/instance': RELEASE };
    expect(at(deployment, 'spec.selector.matchLabels')).toEqual(selector);
    expect(at(deployment, 'spec.replicas')).toBe(3);
    expect(at(deployment, 'spec.template.metadata')).toEqual({
      labels: { ...selector, 'app.kubernetes.io/part-of': 'eap', 'app.kubernetes.io/version': '1.2.3', team: 'data' },
      annotations: { 'example.com/owner': 'data-team' },
    });
    const pod = at(deployment, 'spec.template.spec') as Json;
    expect(pod).toMatchObject({
      serviceAccountName: 'eap-ops',
      automountServiceAccountToken: true,
      imagePullSecrets: [{ name: 'registry' }],
      priorityClassName: 'eap-critical',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50 }] } },
    });
    const container = at(pod, 'containers.0') as Json;
    expect(container).toMatchObject({
      image: 'registry.example/eap-operator:1.2.3',
      imagePullPolicy: 'Always',
      ports: [{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
      livenessProbe: { httpGet: { path: '/livez', port: 'metrics' } },
      readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' } },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    });
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'METRICS_PORT', value: '9090' },
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'WATCH_NAMESPACE', value: 'shop' },
      ]),
    );

    const account = one(rendered, 'ServiceAccount', 'eap-ops');
    expect(account.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/eap' });
    for (const binding of [one(rendered, 'ClusterRoleBinding'), ...rendered.filter((o) => o.kind === 'RoleBinding' && !isHelmTest(o))]) {
      expect(binding.subjects, `${binding.kind}/${binding.metadata.name}`).toEqual([
        { kind: 'ServiceAccount', name: 'eap-ops', namespace: 'ops' },
      ]);
    }
    // watchNamespace: the pipeline rules are a Role there; the ClusterRole keeps discovery only.
    expect(one(rendered, 'ClusterRole').rules).toEqual([{ nonResourceURLs: ['/apis/monitoring.coreos.com/v1'], verbs: ['get'] }]);
    const watched = one(rendered, 'Role', name);
    expect(watched.metadata.namespace).toBe('shop');
    expect(watched.rules).toEqual(expect.arrayContaining([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]));
    expect(one(rendered, 'RoleBinding', name).metadata.namespace).toBe('shop');

    expect(at(one(rendered, 'PodDisruptionBudget'), 'spec')).toEqual({ minAvailable: 2, selector: { matchLabels: selector } });
    expect(at(one(rendered, 'Service'), 'spec')).toEqual({
      selector,
      ports: [{ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }],
    });
    expect(at(one(rendered, 'ServiceMonitor'), 'spec.selector.matchLabels')).toEqual(selector);

    // The helm test pod runs the same image, where the operator can run, and checks this release's Service.
    const testPod = one(rendered, 'Pod');
    expect(isHelmTest(testPod)).toBe(true);
    expect(testPod.metadata.labels).not.toMatchObject(selector);
    expect(at(testPod, 'spec')).toMatchObject({
      imagePullSecrets: [{ name: 'registry' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
      containers: [
        {
          image: 'registry.example/eap-operator:1.2.3',
          env: expect.arrayContaining([{ name: 'READYZ_URL', value: 'http://shop-eap-operator-metrics.ops.svc:9090/readyz' }]),
        },
      ],
    });
  });

  it('renders objects the API server accepts as they are (server-side dry run), every value set and the sample EventPipeline included', async () => {
    const rendered = await renderChart(namespace, [...everyValue(namespace).sets, 'sample.enabled=true'], `chart-${randomSuffix()}`);
    expect(rendered.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'ClusterRole', 'Role', 'PodDisruptionBudget', 'EventPipeline', 'Pod']),
    );
    // As `helm test` does it: the test pod's ServiceAccount exists before the pod is created
    // (admission looks it up), so it is created for real; everything else is a dry run.
    await kube.apply(one(rendered.filter(isHelmTest), 'ServiceAccount'));
    for (const object of rendered) {
      const what = `${object.kind}/${object.metadata.name}`;
      const accepted = await kube.objects
        .patch(object, undefined, 'All', 'helm-dry-run', true, PatchStrategy.ServerSideApply)
        .catch((error: unknown) => {
          throw new Error(`${what}: ${String(error)}`);
        });
      // Nothing dropped on the way: by the client (which writes built-in kinds by its models) or
      // by the API server (which prunes fields it does not know).
      expect(missingFrom(accepted, object), what).toEqual([]);
    }
  });

  it('keeps the Deployment selector of chart 0.1.0 for a release named eap-operator; other releases must delete the Deployment first', async () => {
    const upgradeNamespace = await createNamespace(kube, 'chart-upgrade');
    onTestFinished(() => upgradeNamespace.remove());
    const ns = upgradeNamespace.name;
    /** The operator Deployment as chart 0.1.0 made it: instance was the objects' name, not the release name. */
    const installedBy010 = (release: string, name: string) =>
      kube.create({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ns },
        spec: {
          selector: { matchLabels: { 'app.kubernetes.io/name': 'eap-operator', 'app.kubernetes.io/instance': name } },
          template: {
            metadata: { labels: { 'app.kubernetes.io/name': 'eap-operator', 'app.kubernetes.io/instance': name } },
            spec: { containers: [{ name: 'operator', image: `eap-operator:${release}` }] },
          },
        },
      });
    const upgrade = async (release: string) => one(await renderChart(ns, [], release), 'Deployment');

    await installedBy010('eap-operator', 'eap-operator');
    await kube.apply(await upgrade('eap-operator'), 'helm');

    await installedBy010('shop', 'shop-eap-operator');
    const refused = await refusalOf(kube.apply(await upgrade('shop'), 'helm'));
    expect(refused.code).toBe(422);
    expect(refused.message).toContain('field is immutable');
  });

  it('has a helm test pod whose checks pass against the real API server with its own ServiceAccount, and fail when the operator is not ready', async () => {
    const rendered = (await renderChart(namespace)).filter(isHelmTest);
    for (const object of rendered.filter((o) => o.kind !== 'Pod')) await kube.apply(object);
    const account = one(rendered, 'ServiceAccount');
    const token = (
      await kube.typed(CoreV1Api).createNamespacedServiceAccountToken({
        name: account.metadata.name,
        namespace,
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 600 } },
      })
    ).status?.token;
    if (!token) throw new Error('no token for the helm test ServiceAccount');

    // Least privilege: listing EventPipelines here, nothing else.
    const can = async (verb: string, resource: string, group = '') =>
      (
        await kube
          .withToken(token)
          .typed(AuthorizationV1Api)
          .createSelfSubjectAccessReview({
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { namespace, verb, resource, group } },
            },
          })
      ).status?.allowed;
    expect(await can('list', 'eventpipelines', 'eap.dev')).toBe(true);
    expect(await can('get', 'secrets')).toBe(false);
    expect(await can('create', 'eventpipelines', 'eap.dev')).toBe(false);
    expect(await can('list', 'pods')).toBe(false);

    // The pod's files, here: its token and the API server's CA.
    const dir = mkdtempSync(join(tmpdir(), 'eap-helm-test-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'token'), token);
    const cluster = kube.kubeConfig.getCurrentCluster();
    const ca = cluster?.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : readFileSync(cluster?.caFile ?? '', 'utf8');
    writeFileSync(join(dir, 'ca.crt'), ca);

    // What answers on the operator's metrics Service in a cluster: a server standing in for the
    // operator's /readyz (the k8s project runs no pods).
    let readyStatus = 200;
    const operator = createServer((request, response) => {
      response.writeHead(request.url === '/readyz' ? readyStatus : 404).end(readyStatus === 200 ? 'ok' : 'not ready');
    });
    await new Promise<void>((resolve) => operator.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => operator.close(() => resolve())));

    const container = at(one(rendered, 'Pod'), 'spec.containers.0') as { command: string[]; env: Array<{ name: string; value: string }> };
    expect(container.command[0]).toBe('node');
    const podEnv = Object.fromEntries(container.env.map((variable) => [variable.name, variable.value]));
    expect(podEnv.NAMESPACE).toBe(namespace);
    const runCheck = () =>
      execFileAsync(process.execPath, container.command.slice(1), {
        env: {
          PATH: process.env.PATH ?? '',
          ...podEnv,
          READYZ_URL: `http://127.0.0.1:${(operator.address() as AddressInfo).port}/readyz`,
          NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt'),
          SERVICEACCOUNT_DIR: dir,
          KUBERNETES_API: cluster?.server ?? '',
        },
        timeout: 60_000,
      });

    const passed = await runCheck();
    expect(passed.stdout).toContain('ok: the operator is ready');
    expect(passed.stdout).toContain('ok: EventPipelines are served');

    readyStatus = 503;
    const failed = await runCheck().then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('FAILED the operator is ready');
    expect(failed?.stderr).toContain('HTTP 503 not ready');
    expect(failed?.stderr).not.toContain('FAILED EventPipelines are served');
  });
});

/** Paths of every leaf of `sent` that `accepted` does not hold with the same value (quantities compared as text). */
function missingFrom(accepted: unknown, sent: unknown, path = ''): string[] {
  if (sent !== null && typeof sent === 'object') {
    return Object.entries(sent).flatMap(([key, value]) => missingFrom((accepted as Json | undefined)?.[key], value, `${path}/${key}`));
  }
  return String(accepted) === String(sent) ? [] : [`${path}: sent ${JSON.stringify(sent)}, got ${JSON.stringify(accepted)}`];
}
