import { afterEach, describe, expect, it, vi } from 'vitest';
import { OperatorConfigSchema } from './config.ts';
import { main } from './main.ts';
import { operatorHelp, parseOperatorArgs } from './usage.ts';

describe('operator command line', () => {
  afterEach(() => vi.restoreAllMocks());

  it('runs without arguments, prints help for --help, -h and help, and rejects anything else', () => {
    expect(parseOperatorArgs([])).toEqual({ command: 'run' });
    for (const flag of ['--help', '-h', 'help']) expect(parseOperatorArgs([flag])).toEqual({ command: 'help' });
    expect(parseOperatorArgs(['--kubeconfig=x'])).toEqual({ command: 'usage-error', message: expect.stringContaining('"--kubeconfig=x"') });
  });

  it('help shows the usage and every environment variable of the config schema with its description', () => {
    const help = operatorHelp();
    expect(help).toMatch(/^Usage: eap-operator \[--help\]$/m);
    for (const [name, schema] of Object.entries(OperatorConfigSchema.shape)) {
      expect(help).toMatch(new RegExp(`^  ${name} `, 'm'));
      expect(help).toContain(` ${schema.description}\n`);
    }
  });

  it('main(--help) prints the help and returns 0 before reading any configuration', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['--help'])).toBe(0);
    expect(out).toHaveBeenCalledWith(operatorHelp());
  });

  it('main with an unknown argument prints the error and the help to stderr and returns 2', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['reconcile'])).toBe(2);
    expect(err).toHaveBeenCalledWith(expect.stringMatching(/^eap-operator: unknown argument "reconcile"[\s\S]*Usage: eap-operator/));
  });
});
