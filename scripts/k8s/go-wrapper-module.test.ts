import { describe, expect, it } from 'vitest';
import { parseGoMod } from './go-modules.ts';
import type { GoToolModule } from './go-tool-module.ts';
import { wrapperExcludes, wrapperGoModText, wrapperReplaces } from './go-wrapper-module.ts';

const SPEC: GoToolModule = {
  id: 'demo',
  module: 'example.com/demo/v2',
  version: 'v2.1.0',
  binaries: { 'docker-compose': 'example.com/demo/v2/cmd' },
  linkerVars: () => ({}),
};

// Shaped like a real go.mod: both forms of each directive, comments inside and after entries.
const GO_MOD = `module example.com/demo/v2

go 1.24.9

godebug default=go1.24

require (
	example.com/a v1.2.3
	example.com/b v0.4.0 // indirect
)

require example.com/c v1.0.0

replace example.com/a => example.com/a-fork v1.2.4

replace (
	example.com/b v0.4.0 => example.com/b v0.4.1
	example.com/local => ./local
)

exclude example.com/old v0.9.0 // a single-line exclude

exclude (
	// FIXME: remove once the dependency no longer asks for these.
	//
	github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc
	github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2 // trailing comment
)
`;

describe('parseGoMod', () => {
  it('reads exclude directives in single-line and block form, in file order, without comments', () => {
    expect(parseGoMod(GO_MOD).excludes).toEqual([
      ['example.com/old', 'v0.9.0'],
      ['github.com/davecgh/go-spew', 'v1.1.2-0.20180830191138-d8f796af33cc'],
      ['github.com/pmezard/go-difflib', 'v1.0.1-0.20181226105442-5d4384ee4fb2'],
    ]);
  });

  it('still reads go, godebug, require and replace next to them', () => {
    const parsed = parseGoMod(GO_MOD);
    expect(parsed.goVersion).toBe('1.24.9');
    expect(parsed.godebug).toEqual(['default=go1.24']);
    expect([...parsed.requires]).toEqual([
      ['example.com/a', 'v1.2.3'],
      ['example.com/b', 'v0.4.0'],
      ['example.com/c', 'v1.0.0'],
    ]);
    expect(parsed.replaces).toEqual([
      ['example.com/a', 'example.com/a-fork v1.2.4'],
      ['example.com/b v0.4.0', 'example.com/b v0.4.1'],
      ['example.com/local', './local'],
    ]);
  });

  it('has no excludes when the go.mod has none', () => {
    expect(parseGoMod('module x\n\ngo 1.24\n\nrequire example.com/a v1.0.0\n').excludes).toEqual([]);
  });
});

describe('wrapper go.mod', () => {
  it('repeats the excludes (main-module-only, like replaces) and keeps module-to-module replaces', () => {
    const goMod = parseGoMod(GO_MOD);
    expect(wrapperExcludes(goMod)).toEqual([
      'example.com/old v0.9.0',
      'github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc',
      'github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2',
    ]);
    expect(wrapperReplaces(goMod, undefined)).toEqual([
      'example.com/a => example.com/a-fork v1.2.4',
      'example.com/b v0.4.0 => example.com/b v0.4.1',
    ]);
    const text = wrapperGoModText(SPEC, goMod);
    expect(text).toContain('module eap.local/k8s-tools/demo\n');
    expect(text).toContain('require example.com/demo/v2 v2.1.0\n');
    expect(text).toContain(
      [
        'exclude (',
        '\texample.com/old v0.9.0',
        '\tgithub.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc',
        '\tgithub.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2',
        ')',
        '',
        'tool (',
        '\texample.com/demo/v2/cmd',
        ')',
        '',
      ].join('\n'),
    );
    expect(text.indexOf('replace (')).toBeLessThan(text.indexOf('exclude ('));
  });

  it('writes no exclude or replace block for a go.mod without them (cached wrappers stay valid)', () => {
    const text = wrapperGoModText(SPEC, parseGoMod('module x\n\ngo 1.25.0\n\nrequire example.com/a v1.0.0\n'));
    expect(text).not.toMatch(/^(exclude|replace)\b/m);
    expect(text.endsWith('require example.com/demo/v2 v2.1.0\n\ntool (\n\texample.com/demo/v2/cmd\n)\n')).toBe(true);
  });
});
