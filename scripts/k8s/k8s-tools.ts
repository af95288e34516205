/**
 * Builds (once) and caches the Kubernetes test binaries (and, on request, the docker compose
 * plugin) under .tools/k8s/ (git-ignored).
 *
 *   node scripts/k8s/k8s-tools.ts [core|cli|kwok|all|compose|print] [--rebuild]
 *
 *   core     kube-apiserver, kube-controller-manager, etcd  (what the `k8s` vitest project needs; default)
 *   cli      kubectl and helm (chart tests)
 *   kwok     kwok and kube-scheduler (simulated nodes: pods get scheduled and turn Running)
 *   all      core, cli and kwok
 *   compose  only docker-compose, the docker compose v2 CLI plugin (for containers, not the k8s
 *            tests, so not part of `all`); installing it as a plugin is up to the caller, which
 *            gets its path from `node scripts/k8s/tool-path.ts docker-compose`
 *   print    print the manifest (paths and versions) without building; exit 1 when nothing is built
 *
 * Later runs find the binaries in the cache, print their versions and build nothing. Set
 * EAP_K8S_VERSION, EAP_ETCD_VERSION, EAP_HELM_VERSION, EAP_KWOK_VERSION or EAP_COMPOSE_VERSION to
 * try other versions (each gets its own cache folder). Go's module and build caches are the
 * machine's defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { withLock } from './build-lock.ts';
import { ensureEtcd } from './etcd.ts';
import { ensureGoTools } from './go-build.ts';
import { log } from './progress-log.ts';
import { manifestPath, type ToolEntry, type ToolName, writeManifest } from './tool-manifest.ts';
import { COMPOSE, HELM, KUBERNETES, KWOK } from './tool-modules.ts';
import { VERSIONS } from './versions.ts';

const GROUPS = ['core', 'cli', 'kwok', 'all', 'compose', 'print'] as const;
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

// `all` is the Kubernetes test tools; compose is only built when asked for by name.
const wants = (name: Group): boolean => group === name || (group === 'all' && name !== 'compose');

const started = Date.now();
log(
  group === 'compose'
    ? `group compose: docker compose ${VERSIONS.compose}`
    : `group ${group}: kubernetes ${VERSIONS.kubernetes}` +
        `${wants('core') ? `, etcd (Debian's if >= required, else ${VERSIONS.etcd})` : ''}` +
        `${wants('cli') ? `, helm ${VERSIONS.helm}` : ''}${wants('kwok') ? `, kwok ${VERSIONS.kwok}` : ''}`,
);

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
    if (wants('kwok')) Object.assign(tools, await ensureGoTools(KWOK, ['kwok'], rebuild));
    if (wants('compose')) Object.assign(tools, await ensureGoTools(COMPOSE, ['docker-compose'], rebuild));
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
