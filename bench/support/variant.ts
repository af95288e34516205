import type { EapBuild, EapProgram } from './bench-stack.ts';

/** One variant of an A/B comparison: a name, the `eap` program it runs and its environment. */
export interface Variant {
  name: string;
  build: EapProgram;
  env: Record<string, string>;
}

/**
 * Parses `NAME=PROGRAM[|ENV=VALUE;ENV=VALUE…]`. Each part is cut at its first `=`, so values may
 * hold `=` themselves (`NODE_OPTIONS=--max-semi-space-size=16`): an experiment script that split
 * at every `=` once passed variables without their values, and both sides ran the defaults
 * (benchmarks/profiles.md, "Twentieth round"). PROGRAM is `bundle`, `sources` or a path to an
 * eap.js bundle.
 */
export function parseVariant(text: string): Variant {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`a variant is NAME=PROGRAM[|ENV=VALUE;...], not "${text}"`);
  const [program, env = ''] = text.slice(eq + 1).split('|') as [string, string?];
  if (program === '') throw new Error(`variant "${text.slice(0, eq)}" names no program`);
  const build: EapProgram = program === 'bundle' || program === 'sources' ? (program as EapBuild) : { program };
  const pairs = env
    .split(';')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`"${pair}" in variant "${text.slice(0, eq)}" is not ENV=VALUE`);
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    });
  return { name: text.slice(0, eq), build, env: Object.fromEntries(pairs) };
}
