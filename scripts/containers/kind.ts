/**
 * The kind side of `make kind-up`, `kind-load`, `kind-down` and `kind-node-image`.
 *
 *   node scripts/containers/kind.ts bin          # print the kind binary to run
 *   node scripts/containers/kind.ts config       # print the cluster config file to use
 *   node scripts/containers/kind.ts node-image   # build (or find, cached) the local node image
 *
 * kind is the pinned release (scripts/k8s/versions.ts), built once from the Go module proxy into
 * .tools/k8s/ (`k8s-tools.ts kind-cli`); without Go, a `kind` on PATH is used instead.
 *
 * The cluster config: where kind's default node image (kindest/node, named in the kind module's
 * source) is present or can be pulled, the committed kind-config.yaml as it is. Otherwise (no
 * image registry, as images.ts decides for the base images) a node image is assembled here
 * (kind-node-image.ts) and `.eap/kind-config.yaml` is derived from kind-config.yaml for it: one
 * node, no kindnetd, host-dependent kubelet and containerd fixes (kind-cluster-config.ts).
 * EAP_KIND_NODE_IMAGE=local or =stock skips the decision.
 *
 * stdout carries only the answer (a path or an image reference), so the Makefile can capture it;
 * progress goes to stderr.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { downloadModule, goEnv } from '../k8s/go-modules.ts';
import { binaryPath } from '../k8s/go-tool-module.ts';
import { goStringConstant } from '../k8s/kubeadm-constants.ts';
import { KIND } from '../k8s/tool-modules.ts';
import { missingCapabilities } from './engine.ts';
import { imageId, tryPull } from './images.ts';
import { type HostFacts, localClusterConfig, parseKindCluster, publicBindings, renderLocalClusterConfig } from './kind-cluster-config.ts';
import { ensureNodeImage } from './kind-node-image.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The users' cluster config (committed). */
export const USER_CONFIG = join(ROOT, 'kind-config.yaml');
/** The variant derived for a machine without an image registry (git-ignored). */
export const LOCAL_CONFIG = join(ROOT, '.eap', 'kind-config.yaml');

function say(message: string): void {
  console.error(`[kind] ${message}`);
}

function hasGo(): boolean {
  return spawnSync('go', ['version'], { env: goEnv() }).status === 0;
}

/** The pinned kind (built when missing and Go is there), else a `kind` on PATH. */
async function kindBinary(): Promise<string> {
  const pinned = binaryPath(KIND, 'kind');
  if (existsSync(pinned)) return pinned;
  if (hasGo()) {
    say(`building kind ${KIND.version} (once; cached in .tools/k8s/) ...`);
    const child = spawn(process.execPath, [join(ROOT, 'scripts/k8s/k8s-tools.ts'), 'kind-cli'], { stdio: ['ignore', 2, 2] });
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    if (code !== 0 || !existsSync(pinned)) throw new Error('building kind failed (see above)');
    return pinned;
  }
  const onPath = spawnSync('sh', ['-c', 'command -v kind'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) {
    say(`no Go to build kind ${KIND.version}: using ${onPath}`);
    return onPath;
  }
  throw new Error(`neither Go (to build kind ${KIND.version}) nor a kind on PATH: install one of them`);
}

/** kind's default node image (`kindest/node:vX@sha256:...`), from the pinned kind module's source. */
async function defaultNodeImage(): Promise<string> {
  const info = await downloadModule(KIND.module, KIND.version);
  const source = readFileSync(join(info.Dir, 'pkg', 'apis', 'config', 'defaults', 'image.go'), 'utf8');
  return goStringConstant(source, 'Image');
}

/** Whether the cluster runs the stock kindest/node image (true) or one assembled here (false). */
async function useStockNodeImage(): Promise<boolean> {
  const forced = process.env.EAP_KIND_NODE_IMAGE;
  if (forced === 'stock' || forced === 'local') return forced === 'stock';
  if (forced) throw new Error(`EAP_KIND_NODE_IMAGE=${forced}: expected stock or local`);
  // Without Go, kind comes from PATH (with a default image of its own) and no node image could be
  // built anyway: its default it is.
  if (!hasGo()) return true;
  const image = await defaultNodeImage();
  if ((await imageId(image)) !== undefined || (await tryPull(image))) return true;
  say(`kind's node image ${image} cannot be pulled: using a node image assembled here`);
  return false;
}

/** This host's cgroup version and capability bounding set (Linux; the engine runs here). */
function hostFacts(): HostFacts {
  const status = existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : '';
  return {
    cgroupV1: existsSync('/sys/fs/cgroup') && !existsSync('/sys/fs/cgroup/cgroup.controllers'),
    missingCapabilities: missingCapabilities(status),
  };
}

/** The config file for `kind create cluster` (see the module comment). */
async function clusterConfig(): Promise<string> {
  const config = parseKindCluster(readFileSync(USER_CONFIG, 'utf8'));
  for (const problem of publicBindings(config)) say(`warning: kind-config.yaml publishes beyond 127.0.0.1: ${problem}`);
  if (await useStockNodeImage()) return USER_CONFIG;
  const nodeImage = await ensureNodeImage();
  const host = hostFacts();
  const text = renderLocalClusterConfig(localClusterConfig(config, nodeImage, host), 'kind-config.yaml', host);
  mkdirSync(join(ROOT, '.eap'), { recursive: true });
  if (!existsSync(LOCAL_CONFIG) || readFileSync(LOCAL_CONFIG, 'utf8') !== text) writeFileSync(LOCAL_CONFIG, text);
  say(`single-node cluster config for ${nodeImage}: ${LOCAL_CONFIG}`);
  return LOCAL_CONFIG;
}

if (import.meta.main) {
  // images.ts reports on stdout; here stdout is the answer only.
  console.log = console.error;
  const command = process.argv[2];
  try {
    let answer: string;
    if (command === 'bin') answer = await kindBinary();
    else if (command === 'config') answer = await clusterConfig();
    else if (command === 'node-image') answer = await ensureNodeImage();
    else {
      console.error('usage: node scripts/containers/kind.ts bin|config|node-image');
      process.exit(2);
    }
    process.stdout.write(`${answer}\n`);
  } catch (error) {
    console.error(`[kind] ${(error as Error).message}`);
    process.exit(1);
  }
}
