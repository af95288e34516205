/** Debian packages a build needs (C headers and libraries for cgo builds), installed when missing. */
import { spawnSync } from 'node:child_process';
import { log, step } from './progress-log.ts';
import { run } from './run-command.ts';

function isInstalled(pkg: string): boolean {
  // dpkg-query's own format syntax (not a template string): the package's status words.
  const result = spawnSync('dpkg-query', ['-W', `-f=\${Status}`, pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/**
 * Makes sure the Debian packages `packages` are installed: apt-get installs the missing ones when
 * running as root (after `apt-get update` when the package lists are too old to find them);
 * otherwise throws an error naming the command to run.
 */
export async function ensureDebianPackages(packages: readonly string[], purpose: string): Promise<void> {
  const missing = packages.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) return;
  const command = `apt-get install --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) {
    throw new Error(`${purpose} needs the Debian packages ${missing.join(', ')}: run \`${command}\` (as root) first`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  await step(`${purpose}: ${command}`, () =>
    install().catch(async (error: Error) => {
      log(`apt-get install failed (${error.message.split('\n')[0]}); apt-get update, then once more`);
      await run('apt-get', ['update'], { env });
      return install();
    }),
  );
}
