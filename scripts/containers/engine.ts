/**
 * Makes sure a Docker engine with the compose v2 plugin answers, setting one up when none runs.
 *
 *   node scripts/containers/engine.ts
 *
 * - An engine that already answers (Docker Desktop, a system service, one started by an earlier
 *   run) is used as it is: nothing about it is configured, restarted or stopped.
 * - Otherwise, as root on Debian/Ubuntu: installs Debian's `docker.io` when `dockerd` is missing
 *   and starts `dockerd` in the background with a configuration of its own
 *   (/var/lib/eap-docker/daemon.json; /etc/docker is not touched). Published ports default to
 *   127.0.0.1. On a host whose capability bounding set lacks capabilities a privileged container
 *   asks for (e.g. CAP_SYS_RESOURCE in some VMs), the default runtime is a wrapper around runc
 *   that removes those from each container's config before runc sees it. On cgroup v1 the
 *   cgroupfs driver is used.
 * - `docker compose` missing: the compose v2 plugin is built from the Go module registry
 *   (scripts/k8s/k8s-tools.ts compose, cached) and installed for the current user
 *   (~/.docker/cli-plugins, or $DOCKER_CONFIG/cli-plugins).
 *
 * Idempotent and quick when everything is there (two `docker` calls).
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand } from '@eap/local-services';
import { ensureDebianPackages } from '../k8s/debian-packages.ts';

const STATE_DIR = '/var/lib/eap-docker';
const ROOT = resolve(import.meta.dirname, '../..');

function say(message: string): void {
  console.log(`[engine] ${message}`);
}

/** The version of the Docker engine that answers, or undefined when none does. */
export async function engineVersion(): Promise<string | undefined> {
  const result = await runCommand('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

async function commandWorks(command: string, args: readonly string[]): Promise<boolean> {
  return (await runCommand(command, args, { timeoutMs: 15_000 })).code === 0;
}

/** Capability names (lower case, without cap_) this process's bounding set lacks, of those runc knows. */
export function missingCapabilities(statusText: string): string[] {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(statusText)?.[1];
  if (hex === undefined) return [];
  const bounding = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, bit) => (bounding & (1n << BigInt(bit))) === 0n);
}

/** Linux capabilities by bit number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE (40). */
const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
];

/**
 * A runc wrapper (POSIX sh + sed) that deletes the given capabilities from the OCI bundle's
 * config.json (`create`/`run --bundle DIR`) and from the process file of `exec --process FILE`,
 * then runs runc with the same arguments. runc writes compact JSON, so the names appear as
 * `"CAP_X"` items of arrays; the three sed rules cover first, middle and only positions.
 */
export function runcWrapperScript(runc: string, capabilities: readonly string[]): string {
  const rules = capabilities
    .flatMap((name) => [`s/,"CAP_${name}"//g`, `s/"CAP_${name}",//g`, `s/"CAP_${name}"//g`])
    .map((rule) => `-e '${rule}'`)
    .join(' ');
  return `#!/bin/sh
# Written by EAP's scripts/containers/engine.ts: this host's capability bounding set lacks
# ${capabilities.map((name) => `CAP_${name}`).join(', ')}, which privileged containers ask for and runc cannot grant.
# Removes them from the container's configuration, then runs runc unchanged.
strip() { [ -f "$1" ] && sed -i ${rules} "$1"; }
bundle=
process=
previous=
for arg in "$@"; do
  case "$previous" in
    --bundle|-b) bundle=$arg ;;
    --process|-p) process=$arg ;;
  esac
  case "$arg" in
    --bundle=*) bundle=\${arg#--bundle=} ;;
    --process=*) process=\${arg#--process=} ;;
  esac
  previous=$arg
done
[ -n "$bundle" ] && strip "$bundle/config.json"
[ -n "$process" ] && strip "$process"
exec ${runc} "$@"
`;
}

async function startDockerd(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('No Docker engine answers, and setting one up needs root. Start Docker (or Docker Desktop) and run this again.');
  }
  if (!(await commandWorks('dockerd', ['--version']))) await ensureDebianPackages(['docker.io', 'iptables'], 'a Docker engine');
  mkdirSync(STATE_DIR, { recursive: true });
  // Ports published without an address (`-p 8080`, testcontainers' bindings) listen on loopback
  // only: an engine set up by a test run exposes nothing to the network.
  const config: Record<string, unknown> = { ip: '127.0.0.1' };
  const missing = missingCapabilities(readFileSync('/proc/self/status', 'utf8'));
  if (missing.length > 0) {
    const runc = (await runCommand('sh', ['-c', 'command -v runc'])).stdout.trim() || '/usr/sbin/runc';
    const wrapper = join(STATE_DIR, 'runc-capped');
    writeFileSync(wrapper, runcWrapperScript(runc, missing));
    chmodSync(wrapper, 0o755);
    config.runtimes = { 'runc-capped': { path: wrapper } };
    config['default-runtime'] = 'runc-capped';
    say(`capability bounding set lacks ${missing.join(', ')}: containers run through ${wrapper}`);
  }
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) config['exec-opts'] = ['native.cgroupdriver=cgroupfs'];
  const configFile = join(STATE_DIR, 'daemon.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const logFile = join(STATE_DIR, 'dockerd.log');
  say(`starting dockerd --config-file ${configFile} (log ${logFile}) ...`);
  const log = openSync(logFile, 'a');
  const child = spawn('dockerd', ['--config-file', configFile], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await engineVersion()) !== undefined) return;
    if (child.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 500));
  }
  const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
  throw new Error(`dockerd did not become ready within 60 s; the end of ${logFile}:\n${tail}`);
}

async function ensureCompose(): Promise<void> {
  if (await commandWorks('docker', ['compose', 'version'])) return;
  say('docker compose v2 is missing: building the plugin from the Go module registry (cached after the first build) ...');
  const node = process.execPath;
  const build = spawn(node, [join(ROOT, 'scripts/k8s/k8s-tools.ts'), 'compose'], { stdio: 'inherit' });
  const code = await new Promise<number | null>((done) => build.once('exit', done));
  if (code !== 0) throw new Error('building the compose plugin failed (see above)');
  const path = (await runCommand(node, [join(ROOT, 'scripts/k8s/tool-path.ts'), 'docker-compose'])).stdout.trim();
  const pluginDir = join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'cli-plugins');
  mkdirSync(pluginDir, { recursive: true });
  copyFileSync(path, join(pluginDir, 'docker-compose'));
  chmodSync(join(pluginDir, 'docker-compose'), 0o755);
  if (!(await commandWorks('docker', ['compose', 'version'])))
    throw new Error(`docker compose still fails after installing ${path} into ${pluginDir}`);
  say(`installed the compose plugin into ${pluginDir}`);
}

if (import.meta.main) {
  try {
    const version = await engineVersion();
    if (version !== undefined) say(`Docker engine ${version} answers: using it as it is`);
    else {
      await startDockerd();
      say(`Docker engine ${await engineVersion()} started`);
    }
    await ensureCompose();
  } catch (error) {
    console.error(`[engine] ${(error as Error).message}`);
    process.exit(1);
  }
}
