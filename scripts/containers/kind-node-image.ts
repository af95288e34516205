/**
 * A kind node image for the pinned Kubernetes version, assembled on a machine that cannot pull
 * kindest/node (no image registry), the way `kind build node-image` makes one — which cannot run
 * here because it pulls its base image and kindnetd:
 *
 * 1. the base (bases/kind-node-base.Dockerfile on the local Debian base, with kind's node files from
 *    the sigs.k8s.io/kind module and a bridge CNI configuration);
 * 2. the images kubeadm runs (kind-images.ts);
 * 3. a privileged container of the base gets the node binaries (kubelet, kubeadm, kubectl,
 *    containerd, ctr, the runc shim, runc, crictl), containerd's base runtime spec, the pause image
 *    as containerd's sandbox image, /kind/version (what `kind create cluster` reads to choose its
 *    kubeadm config) and the StorageClass manifest kind applies; containerd runs in it long
 *    enough to `ctr images import` the images of step 2 into its k8s.io namespace (pinned, so the
 *    kubelet never garbage-collects them);
 * 4. `docker commit` as {@link nodeImageRef}, with kind's entrypoint.
 *
 * Cached: the image carries the hash of its recipe (base image id, image ids, binaries, this
 * file) and is rebuilt only when that changes. The binaries come from
 * `node scripts/k8s/k8s-tools.ts kind`, which this runs first (it builds nothing when cached).
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { downloadModule } from '../k8s/go-modules.ts';
import { readToolManifest, type ToolName } from '../k8s/tool-manifest.ts';
import { KIND } from '../k8s/tool-modules.ts';
import { VERSIONS } from '../k8s/versions.ts';
import { buildCached, DEBIAN_BASE, ensureDebianBase, imageId, imageLabel, RECIPE_LABEL, removeReplaced, runLoud } from './images.ts';
import { ensureComponentImages, kubeadmImages, sha256File } from './kind-images.ts';
import { bridgeCniConfig } from './kind-cluster-config.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BASES_DIR = join(ROOT, 'scripts/containers/bases');
const BASE_DOCKERFILE = 'kind-node-base.Dockerfile';
/** The base, per kind release (its node files are part of it). */
export const KIND_BASE_IMAGE = `eap-local/kind-base:${VERSIONS.kind}`;

export function nodeImageRef(kubernetesVersion: string = VERSIONS.kubernetes): string {
  return `eap-local/kind-node:${kubernetesVersion}`;
}

/** Where each node binary goes in the node (kind's systemd units expect these paths). */
const NODE_BINARIES: Array<[ToolName, string]> = [
  ['kubelet', '/usr/bin/kubelet'],
  ['kubeadm', '/usr/bin/kubeadm'],
  // kind runs kubectl inside the node (kubeconfig /etc/kubernetes/admin.conf) to set it up.
  ['kubectl', '/usr/bin/kubectl'],
  ['containerd', '/usr/local/bin/containerd'],
  ['ctr', '/usr/local/bin/ctr'],
  ['containerd-shim-runc-v2', '/usr/local/bin/containerd-shim-runc-v2'],
  ['crictl', '/usr/local/bin/crictl'],
  ['runc', '/usr/local/sbin/runc'],
];

/** Every binary the node image needs: the node's own and those of the images kubeadm runs. */
const REQUIRED_TOOLS: ToolName[] = [
  ...NODE_BINARIES.map(([tool]) => tool),
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'etcd',
  'coredns',
  'pause',
];

function say(message: string): void {
  console.error(`[kind] ${message}`);
}

/** All files under `dir`, relative to it. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .sort();
}

/**
 * Copies kind's node files (images/base/files of the kind module) to `target` with the modes
 * kind's own base image gives them: 0755 for its scripts (usr/local/bin, kind/bin) and
 * directories, 0644 for the rest (the module cache keeps everything read-only).
 */
function copyKindFiles(source: string, target: string): void {
  cpSync(source, target, { recursive: true });
  chmodSync(target, 0o755);
  for (const entry of readdirSync(target, { recursive: true, encoding: 'utf8' })) {
    const path = join(target, entry);
    const executable = /^(usr\/local\/bin|kind\/bin)\//.test(entry);
    chmodSync(path, statSync(path).isDirectory() || executable ? 0o755 : 0o644);
  }
}

/** The base image (step 1), rebuilt when its Dockerfile, kind's files or the Debian base change. */
async function ensureBase(debianId: string): Promise<string> {
  const kind = await downloadModule(KIND.module, KIND.version);
  const kindFiles = join(kind.Dir, 'images', 'base', 'files');
  const cni = bridgeCniConfig();
  return buildCached({
    tag: KIND_BASE_IMAGE,
    recipe: [
      debianId,
      readFileSync(join(BASES_DIR, BASE_DOCKERFILE)),
      cni,
      ...listFiles(kindFiles).flatMap((file) => [file, readFileSync(join(kindFiles, file))]),
    ],
    buildArgs: { BASE_IMAGE: DEBIAN_BASE },
    from: `${BASE_DOCKERFILE}, kind ${KIND.version}'s node files`,
    fill: (context) => {
      copyFileSync(join(BASES_DIR, BASE_DOCKERFILE), join(context, 'Dockerfile'));
      copyKindFiles(kindFiles, join(context, 'kind-files'));
      writeFileSync(join(context, 'eap-bridge.conflist'), cni);
    },
  });
}

/** Builds the node binaries and the rest with k8s-tools (`kind` group; cached), output on stderr. */
async function buildTools(): Promise<Partial<Record<ToolName, string>>> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts/k8s/k8s-tools.ts'), 'kind'], { stdio: ['ignore', 2, 2] });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error('building the kind node binaries failed (see above)');
  const manifest = readToolManifest(REQUIRED_TOOLS);
  return Object.fromEntries(REQUIRED_TOOLS.map((tool) => [tool, manifest.tools[tool]?.path]));
}

/**
 * The StorageClass kind applies (/kind/manifests/default-storage.yaml). kindest/node ships a
 * local-path provisioner there, an image that cannot be had here; this is kind's own fallback,
 * written out so that kind applies it without a warning: the default class "standard" served by
 * the host-path provisioner that kind's kubeadm config enables in kube-controller-manager.
 */
const DEFAULT_STORAGE = `# Written by EAP's scripts/containers/kind-node-image.ts (no local-path provisioner image here).
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
`;

/**
 * The shell script run in the build container (step 3, before the import): modes of the copied
 * binaries; containerd's base runtime spec, which kind's containerd config names
 * (/etc/containerd/cri-base.json): containerd's default spec without rlimits, plus kind's hook
 * that gives each container its own copy of the node's product_name/product_uuid; the sandbox
 * image; /kind/version and the storage manifest; and a check that every binary runs.
 */
function setupScript(pauseImage: string, kubernetesVersion: string): string {
  const binaries = NODE_BINARIES.map(([, path]) => path).join(' ');
  return `set -eu
chown root:root ${binaries}
chmod 0755 ${binaries}
ctr oci spec \\
  | jq '.hooks.createContainer = ((.hooks.createContainer // []) + [{"path": "/kind/bin/mount-product-files.sh"}]) | del(.process.rlimits)' \\
  > /etc/containerd/cri-base.json
sed -i -E 's|^([[:space:]]*sandbox_image[[:space:]]*=[[:space:]]*).*$|\\1"${pauseImage}"|' /etc/containerd/config.toml
grep -q 'sandbox_image = "${pauseImage}"' /etc/containerd/config.toml
mkdir -p /kind/manifests
printf '%s' '${kubernetesVersion}' > /kind/version
cat > /kind/manifests/default-storage.yaml <<'EOF'
${DEFAULT_STORAGE}EOF
kubelet --version && kubeadm version --output=short && kubectl version --client=true | head -1
containerd --version && runc --version | head -1 && crictl --version
`;
}

/** Starts containerd in the build container and waits until `ctr` gets an answer. */
const START_CONTAINERD = `set -eu
containerd >/var/log/containerd-build.log 2>&1 &
for attempt in $(seq 1 100); do
  if [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1; then exit 0; fi
  sleep 0.2
done
cat /var/log/containerd-build.log >&2
exit 1
`;

/**
 * Stops containerd (its metadata database is closed when it has exited) and leaves no run-time
 * state in the image. The container's PID 1 is `sleep`, which reaps nobody: an exited containerd
 * stays a zombie (state Z), so the wait is for no containerd in another state.
 */
const STOP_CONTAINERD = `set -eu
pkill -x containerd
while ps -C containerd -o stat= | grep -qv '^Z'; do sleep 0.2; done
rm -rf /run/containerd /var/log/containerd-build.log /tmp/*
`;

function run(command: string, args: readonly string[]): Promise<void> {
  return runLoud(command, args);
}

/** Steps 3 and 4 in container `name` of the base; commits as `ref` with label `recipe`. */
async function assemble(
  name: string,
  baseId: string,
  binaries: Partial<Record<ToolName, string>>,
  images: readonly string[],
  pauseImage: string,
  ref: string,
  recipe: string,
): Promise<void> {
  await run('docker', ['run', '-d', '--privileged', '--name', name, '--entrypoint', 'sleep', baseId, 'infinity']);
  const stage = mkdtempSync(join(tmpdir(), 'eap-kind-node-'));
  // The staging folder stands for the node's / (docker cp applies its mode there).
  chmodSync(stage, 0o755);
  try {
    for (const [tool, nodePath] of NODE_BINARIES) {
      const target = join(stage, relative('/', nodePath));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(binaries[tool] as string, target);
    }
    await run('docker', ['cp', `${stage}/.`, `${name}:/`]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  await run('docker', ['exec', name, 'bash', '-c', setupScript(pauseImage, VERSIONS.kubernetes)]);
  await run('docker', ['exec', name, 'bash', '-c', START_CONTAINERD]);
  const quoted = images.map((image) => `'${image}'`).join(' ');
  say(`importing ${images.length} images into the node's containerd (namespace k8s.io) ...`);
  await run('bash', [
    '-c',
    `set -o pipefail; docker save ${quoted} | docker exec -i ${name} ctr --namespace k8s.io images import --label io.cri-containerd.pinned=pinned --no-unpack - >/dev/null`,
  ]);
  const check = images.map((image) => `grep -qxF '${image}' /tmp/images || { echo "missing ${image}" >&2; exit 1; }`).join('\n');
  await run('docker', ['exec', name, 'bash', '-c', `set -eu\nctr --namespace k8s.io images list --quiet > /tmp/images\n${check}`]);
  await run('docker', ['exec', name, 'bash', '-c', STOP_CONTAINERD]);
  await run('docker', [
    'commit',
    '--change',
    'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
    '--change',
    'CMD []',
    '--change',
    `LABEL ${RECIPE_LABEL}=${recipe}`,
    name,
    ref,
  ]);
}

/**
 * The local node image for the pinned Kubernetes version: built (with everything it needs) unless
 * one with the same recipe exists. Returns its reference.
 */
export async function ensureNodeImage(): Promise<string> {
  const ref = nodeImageRef();
  const started = Date.now();
  const binaries = await buildTools();
  const debianId = await ensureDebianBase();
  const baseId = await ensureBase(debianId);
  const kubeadmRefs = kubeadmImages(binaries.kubeadm as string, VERSIONS.kubernetes);
  const pauseImage = kubeadmRefs.find((image) => /\/pause:/.test(image));
  if (!pauseImage) throw new Error(`kubeadm names no pause image: ${kubeadmRefs.join(', ')}`);
  const components = await ensureComponentImages(kubeadmRefs, binaries, DEBIAN_BASE, debianId);
  const hash = createHash('sha256')
    .update(baseId)
    .update(readFileSync(import.meta.filename));
  for (const image of components) hash.update(`${image.ref} ${image.id}\n`);
  for (const [tool] of NODE_BINARIES) hash.update(`${tool} ${await sha256File(binaries[tool] as string)}\n`);
  const recipe = hash.digest('hex').slice(0, 16);
  if ((await imageLabel(ref, RECIPE_LABEL)) === recipe) {
    say(`${ref} is up to date (recipe ${recipe})`);
    return ref;
  }
  const previousId = await imageId(ref);
  const name = `eap-kind-node-build-${process.pid}`;
  const assembling = Date.now();
  say(`assembling ${ref} in container ${name} ...`);
  try {
    await assemble(
      name,
      baseId,
      binaries,
      components.map((image) => image.ref),
      pauseImage,
      ref,
      recipe,
    );
  } finally {
    await runLoud('docker', ['rm', '-f', '-v', name]).catch(() => undefined);
  }
  await removeReplaced(previousId, ref);
  say(`${ref} built: assembly ${((Date.now() - assembling) / 1000).toFixed(0)}s, ${((Date.now() - started) / 1000).toFixed(0)}s in all`);
  return ref;
}
