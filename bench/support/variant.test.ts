import { describe, expect, it } from 'vitest';
import { parseVariant } from './variant.ts';

describe('parseVariant', () => {
  it('keeps every = after the first of each part, so a value such as NODE_OPTIONS arrives whole', () => {
    expect(parseVariant('s16=/tmp/a/bin/eap.js|NODE_OPTIONS=--max-semi-space-size=16 --max-old-space-size=307;WORKER_LINGER_MS=0')).toEqual(
      {
        name: 's16',
        build: { program: '/tmp/a/bin/eap.js' },
        env: { NODE_OPTIONS: '--max-semi-space-size=16 --max-old-space-size=307', WORKER_LINGER_MS: '0' },
      },
    );
  });

  it('names the builds of the benchmark stack, and takes no environment when none is given', () => {
    expect(parseVariant('after=bundle')).toEqual({ name: 'after', build: 'bundle', env: {} });
    expect(parseVariant('dev=sources|')).toEqual({ name: 'dev', build: 'sources', env: {} });
  });

  it('refuses a variant without a name, a program or a value for its variable', () => {
    expect(() => parseVariant('bundle')).toThrow(/NAME=PROGRAM/);
    expect(() => parseVariant('=bundle')).toThrow(/NAME=PROGRAM/);
    expect(() => parseVariant('a=')).toThrow(/names no program/);
    expect(() => parseVariant('a=bundle|WORKER_LINGER_MS')).toThrow(/not ENV=VALUE/);
  });
});
