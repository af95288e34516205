/**
 * Builds (once) and caches the Kubernetes test binaries (and, on request, the docker compose
 * plugin, kind and a kind node image's binaries) under .tools/k8s/ (git-ignored).
 *
 *   node scripts/k8s/k8s-tools.ts [core|cli|kwok|all|compose|kind-cli|kind|print] [--rebuild]
 *
 *   core     kube-apiserver, kube-controller-manager, etcd  (what the `k8s` vitest project needs; default)
 *   cli      kubectl and helm (chart tests), and Debian's lua5.1 (the chart's Argo CD health check)
 *   kwok     kwok and kube-scheduler (simulated nodes: pods get scheduled and turn Running)
 *   all      core, cli and kwok
 *   prometheus  only prometheus, for the local stand-in of prom/prometheus (scripts/containers/images.ts)
 *   compose  only docker-compose, the docker compose v2 CLI plugin (for containers, not the k8s
 *            tests, so not part of `all`); installing it as a plugin is up to the caller, which
 *            gets its path from `node scripts/k8s/tool-path.ts docker-compose`
 *   kind-cli only kind, the CLI of `make kind-up` (not part of `all` either)
 *   kind     kind and everything a kind node image assembled here is made of
 *            (scripts/containers/kind-node-image.ts, for machines that cannot pull kindest/node):
 *            kubelet, kubeadm, kube-proxy, kubectl and the control plane (the same kubernetes
 *            wrapper module and version settings as the test binaries), etcd, containerd, ctr, the
 *            runc shim, runc (cgo, needs libseccomp-dev), crictl, CoreDNS at the version kubeadm
 *            deploys, and pause (gcc)
 *   print    print the manifest (paths and versions) without building; exit 1 when nothing is built
 *
 * Later runs find the binaries in the cache, print their versions and build nothing. Set
 * EAP_K8S_VERSION, EAP_ETCD_VERSION, EAP_HELM_VERSION, EAP_KWOK_VERSION, EAP_COMPOSE_VERSION,
 * EAP_KIND_VERSION, EAP_CONTAINERD_VERSION, EAP_RUNC_VERSION or EAP_CRI_TOOLS_VERSION to try other
 * versions (each gets its own cache folder). Go's module and build caches are the
 * machine's defaults.
 */
import { ensureDebianPackages } from './debian-packages.ts';
import { existsSync, readFileSync } from 'node:fs';
import { withLock } from './build-lock.ts';
import { ensureEtcd } from './etcd.ts';
import { ensureGoTools } from './go-build.ts';
import { kubeadmConstants } from './kubeadm-constants.ts';
import { ensurePause } from './pause.ts';
import { log } from './progress-log.ts';
import { manifestPath, type ToolEntry, type ToolName, writeManifest } from './tool-manifest.ts';
import { COMPOSE, CONTAINERD, CRI_TOOLS, corednsModule, HELM, KIND, KUBERNETES, KWOK, PROMETHEUS, RUNC } from './tool-modules.ts';
import { VERSIONS } from './versions.ts';

const GROUPS = ['core', 'cli', 'kwok', 'all', 'compose', 'prometheus', 'kind-cli', 'kind', 'print'] as const;
type Group = (typeof GROUPS)[number];

function usage(): never {
  console.error(`usage: node scripts/k8s/k8s-tools.ts [${GROUPS.join('|')}] [--rebuild]`);
  process.exit(2);
}

const args = process.argv.slice(2);
const rebuild = args.includes('--rebuild');
const positional = args.filter((arg) => !arg.startsWith('--'));
if (positional.length > 1 || args.some((arg) => arg.startsWith('--') && arg !== '--rebuild')) usage();
const group = (positional[0] ?? 'core') as Group;
if (!GROUPS.includes(group)) usage();

if (group === 'print') {
  const file = manifestPath();
  if (!existsSync(file)) {
    console.error(`${file} does not exist: nothing built yet`);
    process.exit(1);
  }
  process.stdout.write(readFileSync(file, 'utf8'));
  process.exit(0);
}

// `all` is the Kubernetes test tools; compose and the kind groups are only built when asked for by name.
const wants = (name: Group): boolean =>
  group === name ||
  (group === 'all' && !['compose', 'prometheus', 'kind-cli', 'kind'].includes(name)) ||
  (group === 'kind' && name === 'kind-cli');

function banner(): string {
  if (group === 'compose') return `group compose: docker compose ${VERSIONS.compose}`;
  if (group === 'prometheus') return `group prometheus: prometheus ${VERSIONS.prometheus}`;
  if (group === 'kind-cli') return `group kind-cli: kind ${VERSIONS.kind}`;
  if (group === 'kind')
    return (
      `group kind: kind ${VERSIONS.kind}, kubernetes ${VERSIONS.kubernetes} (control plane, kubelet, kubeadm, kube-proxy, kubectl), ` +
      `etcd, containerd ${VERSIONS.containerd}, runc ${VERSIONS.runc}, crictl ${VERSIONS.criTools}, CoreDNS and pause (the versions kubeadm deploys)`
    );
  return (
    `group ${group}: kubernetes ${VERSIONS.kubernetes}` +
    `${wants('core') ? `, etcd (Debian's if >= required, else ${VERSIONS.etcd})` : ''}` +
    `${wants('cli') ? `, helm ${VERSIONS.helm}` : ''}${wants('kwok') ? `, kwok ${VERSIONS.kwok}` : ''}`
  );
}

/** What a kind node image is made of, besides kind itself (group `kind`). */
async function ensureKindNodeTools(rebuild: boolean): Promise<Partial<Record<ToolName, ToolEntry>>> {
  const tools: Partial<Record<ToolName, ToolEntry>> = {};
  const kubernetesTools: ToolName[] = [
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'kubectl',
    'kubelet',
    'kubeadm',
    'kube-proxy',
  ];
  Object.assign(tools, await ensureGoTools(KUBERNETES, kubernetesTools, rebuild));
  tools.etcd = await ensureEtcd(rebuild);
  Object.assign(tools, await ensureGoTools(CONTAINERD, ['containerd', 'ctr', 'containerd-shim-runc-v2'], rebuild));
  Object.assign(tools, await ensureGoTools(RUNC, ['runc'], rebuild));
  Object.assign(tools, await ensureGoTools(CRI_TOOLS, ['crictl'], rebuild));
  const kubeadm = await kubeadmConstants();
  log(`kubeadm ${VERSIONS.kubernetes} deploys CoreDNS ${kubeadm.coreDNS} and pause ${kubeadm.pause} (cmd/kubeadm/app/constants)`);
  Object.assign(tools, await ensureGoTools(corednsModule(kubeadm.coreDNS), ['coredns'], rebuild));
  tools.pause = await ensurePause(kubeadm.pause, rebuild);
  return tools;
}

const started = Date.now();
log(banner());

try {
  const manifest = await withLock(async () => {
    const tools: Partial<Record<ToolName, ToolEntry>> = {};
    const kubernetesTools: ToolName[] = [];
    if (wants('core')) kubernetesTools.push('kube-apiserver', 'kube-controller-manager');
    if (wants('cli')) kubernetesTools.push('kubectl');
    if (wants('kwok')) kubernetesTools.push('kube-scheduler');
    if (kubernetesTools.length > 0) Object.assign(tools, await ensureGoTools(KUBERNETES, kubernetesTools, rebuild));
    if (wants('core')) tools.etcd = await ensureEtcd(rebuild);
    if (wants('cli')) Object.assign(tools, await ensureGoTools(HELM, ['helm'], rebuild));
    // The chart's Argo CD health check is Lua; its tests run it with Lua 5.1, the dialect of Argo CD's interpreter.
    if (wants('cli')) await ensureDebianPackages(['lua5.1'], 'the Argo CD health check tests');
    if (wants('kwok')) Object.assign(tools, await ensureGoTools(KWOK, ['kwok'], rebuild));
    if (wants('compose')) Object.assign(tools, await ensureGoTools(COMPOSE, ['docker-compose'], rebuild));
    if (wants('prometheus')) Object.assign(tools, await ensureGoTools(PROMETHEUS, ['prometheus'], rebuild));
    if (wants('kind-cli')) Object.assign(tools, await ensureGoTools(KIND, ['kind'], rebuild));
    if (wants('kind')) Object.assign(tools, await ensureKindNodeTools(rebuild));
    return writeManifest(tools);
  });
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s; manifest ${manifestPath()}:`);
  for (const [name, entry] of Object.entries(manifest.tools)) {
    console.log(`  ${name.padEnd(24)} ${entry.version.padEnd(44)} ${entry.path}${entry.source === 'debian' ? ' (Debian)' : ''}`);
  }
} catch (error) {
  console.error(`[k8s-tools] FAILED after ${((Date.now() - started) / 1000).toFixed(1)}s: ${(error as Error).message}`);
  process.exit(1);
}
