import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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

  it('keeps in every path the Dockerfile copies from the context', () => {
    const sources = [...read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'packages', 'services']));
    for (const source of sources) {
      const top = source.split('/')[0]!;
      expect(ignored, source).not.toContain(source);
      expect(ignored, source).not.toContain(top);
    }
  });
});
