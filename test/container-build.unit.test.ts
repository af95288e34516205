import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NATIVE_ENV } from '@eap/core';

// No Docker engine runs here, so the build context is checked statically: what .dockerignore
// keeps out, and that it keeps in everything ./Dockerfile copies.
const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const ignored = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

describe('.dockerignore', () => {
  it('keeps installed, local and generated files out of the build context', () => {
    for (const entry of [
      '.git',
      'node_modules',
      '**/node_modules',
      '.tools',
      '.eap',
      'coverage',
      'benchmarks/results',
      'cdk8s/dist',
      '.env',
    ])
      expect(ignored, entry).toContain(entry);
  });

  it.each(['Dockerfile', 'operator/Dockerfile'])('keeps in every path %s copies from the context', (dockerfile) => {
    const sources = [...read(dockerfile).matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    for (const source of sources) {
      const top = source.split('/')[0]!;
      expect(ignored, source).not.toContain(source);
      expect(ignored, source).not.toContain(top);
      expect(existsSync(`${root}${source}`), source).toBe(true);
    }
  });
});

describe('images', () => {
  // npm ci checks the lockfile against every workspace: each image copies all their package.json files.
  const workspaces = (JSON.parse(read('package.json')).workspaces as string[]).flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(`${root}${pattern.slice(0, -2)}`, { withFileTypes: true })
          .filter((entry) => entry.isDirectory() && existsSync(`${root}${pattern.slice(0, -2)}/${entry.name}/package.json`))
          .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern],
  );

  it.each(['Dockerfile', 'operator/Dockerfile'])(
    '%s installs with every workspace manifest and runs as non-root under tini',
    (dockerfile) => {
      const text = read(dockerfile);
      for (const workspace of workspaces) expect(text, workspace).toContain(`COPY ${workspace}/package.json ${workspace}/`);
      expect(text).toContain('npm ci --omit=dev');
      expect(text).toMatch(/^USER (node|1000:1000)$/m);
      expect(text).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"/m);
    },
  );

  it('starts the EAP image through the launcher that gives node the flags NODE_OPTIONS may not carry', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    // bin/eap-node.sh is nodeLauncherScript, written next to the bundle (its own test runs it).
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['/usr/bin/tini', '--', '/bin/sh', '/app/bin/eap-node.sh']);
    expect(read('scripts/build-bundle.ts')).toContain("writeFileSync(join(outDir, 'bin/eap-node.sh'), nodeLauncherScript()");
  });

  it('sets the environment every EAP process runs with for the C library', () => {
    const text = read('Dockerfile');
    for (const [name, value] of Object.entries(NATIVE_ENV)) expect(text).toMatch(new RegExp(`^ENV ${name}=${value}$`, 'm'));
  });

  it('gives the operator image what it reads at run time: its entry point and the monitoring assets', () => {
    const text = read('operator/Dockerfile');
    const entry = /"node", "\/app\/(\S+)"\]/.exec(text)?.[1];
    expect(entry && existsSync(`${root}${entry}`)).toBe(true);
    expect(text).toContain('COPY deploy/prometheus/alerts.yml');
    expect(text).toContain('COPY deploy/grafana/dashboards');
  });
});
