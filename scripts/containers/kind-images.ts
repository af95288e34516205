/**
 * The container images kubeadm runs on a kind node (kube-apiserver, kube-controller-manager,
 * kube-scheduler, kube-proxy, etcd, CoreDNS, pause), built here from the local Debian base and the
 * binaries of `node scripts/k8s/k8s-tools.ts kind`, for machines that cannot pull them from
 * registry.k8s.io. Each is tagged with the exact reference that `kubeadm config images list`
 * prints for the pinned version, so that kubeadm and the kubelet find it in the node's containerd
 * and pull nothing.
 *
 * Like images.ts, each image carries a label with the hash of its recipe (Dockerfile, files, base
 * image id) and is rebuilt only when that changes.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ToolName } from '../k8s/tool-manifest.ts';
import { buildCached } from './images.ts';

const BASES_DIR = resolve(import.meta.dirname, 'bases');

/** How one image kubeadm names is made: the binary, where it goes, what else it needs. */
interface ComponentRecipe {
  tool: ToolName;
  /** Path of the binary in the image (the upstream images' paths: kubeadm's manifests run them so). */
  path: string;
  /** Extra Dockerfile lines before the entrypoint. */
  extra?: string[];
  /** Files from scripts/containers/bases/ to put into the build context. */
  files?: string[];
}

/**
 * By the last part of the repository name kubeadm prints. kube-proxy also gets iptables (it
 * writes the node's Service rules with it) with a wrapper that picks the backend the node uses
 * (bases/iptables-backend.sh); the others are a binary on the Debian base.
 */
const RECIPES: Record<string, ComponentRecipe> = {
  'kube-apiserver': { tool: 'kube-apiserver', path: '/usr/local/bin/kube-apiserver' },
  'kube-controller-manager': { tool: 'kube-controller-manager', path: '/usr/local/bin/kube-controller-manager' },
  'kube-scheduler': { tool: 'kube-scheduler', path: '/usr/local/bin/kube-scheduler' },
  'kube-proxy': {
    tool: 'kube-proxy',
    path: '/usr/local/bin/kube-proxy',
    files: ['iptables-backend.sh'],
    extra: [
      'RUN apt-get update \\',
      ' && apt-get install -y --no-install-recommends iptables nftables conntrack \\',
      ' && rm -rf /var/lib/apt/lists/*',
      'COPY iptables-backend.sh /usr/local/sbin/iptables-backend',
      'RUN for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \\',
      '      ln -s iptables-backend "/usr/local/sbin/$tool"; \\',
      '    done',
    ],
  },
  // kubeadm names the etcd release its Kubernetes version was tested with (e.g. 3.7.0-0); the
  // binary is the project's etcd (a newer patch of the same minor, see scripts/k8s/etcd.ts).
  etcd: { tool: 'etcd', path: '/usr/local/bin/etcd' },
  coredns: { tool: 'coredns', path: '/coredns', extra: ['EXPOSE 53 53/udp'] },
  pause: { tool: 'pause', path: '/pause' },
};

export interface ComponentImage {
  ref: string;
  tool: ToolName;
  id: string;
}

/** The images `kubeadm config images list` names for `version` (kubeadm's defaults, no network). */
export function kubeadmImages(kubeadm: string, version: string): string[] {
  const result = spawnSync(kubeadm, ['config', 'images', 'list', '--kubernetes-version', version], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubeadm config images list failed: ${result.stderr.trim()}`);
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[\w.-]+(\/[\w.-]+)+:[\w.-]+$/.test(line));
}

/** The recipe for an image reference such as `registry.k8s.io/coredns/coredns:v1.14.6`. */
function recipeFor(ref: string): ComponentRecipe {
  const repository = ref.slice(0, ref.lastIndexOf(':'));
  const recipe = RECIPES[basename(repository)];
  if (!recipe) throw new Error(`kubeadm asks for ${ref}, which has no local recipe (scripts/containers/kind-images.ts)`);
  return recipe;
}

function dockerfile(baseImage: string, ref: string, recipe: ComponentRecipe): string {
  return [
    `# ${ref}, built by scripts/containers/kind-images.ts (no registry on this machine)`,
    `FROM ${baseImage}`,
    ...(recipe.extra ?? []),
    `COPY ${recipe.tool} ${recipe.path}`,
    `ENTRYPOINT ["${recipe.path}"]`,
    '',
  ].join('\n');
}

export function sha256File(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .once('error', fail)
      .once('end', () => done(hash.digest('hex')));
  });
}

/** Builds (or finds, by recipe label) the image `ref` from `baseImage` (id `baseId`) and the binary at `binary`. */
async function ensureComponentImage(ref: string, binary: string, baseImage: string, baseId: string): Promise<ComponentImage> {
  const recipe = recipeFor(ref);
  const text = dockerfile(baseImage, ref, recipe);
  const files = recipe.files ?? [];
  const id = await buildCached({
    tag: ref,
    recipe: [baseId, text, await sha256File(binary), ...files.map((file) => readFileSync(join(BASES_DIR, file)))],
    from: binary,
    fill: (context) => {
      writeFileSync(join(context, 'Dockerfile'), text);
      copyFileSync(binary, join(context, recipe.tool));
      chmodSync(join(context, recipe.tool), 0o755);
      for (const file of files) copyFileSync(join(BASES_DIR, file), join(context, file));
    },
  });
  return { ref, tool: recipe.tool, id };
}

/** Every image kubeadm names for `version`, built from `binaries` (tool → path) on `baseImage`. */
export async function ensureComponentImages(
  refs: readonly string[],
  binaries: Partial<Record<ToolName, string>>,
  baseImage: string,
  baseId: string,
): Promise<ComponentImage[]> {
  const images: ComponentImage[] = [];
  for (const ref of refs) {
    const tool = recipeFor(ref).tool;
    const binary = binaries[tool];
    if (!binary) throw new Error(`${ref} needs ${tool}, which is not built`);
    images.push(await ensureComponentImage(ref, binary, baseImage, baseId));
  }
  return images;
}
