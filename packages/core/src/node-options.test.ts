import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_COMMAND_FLAGS, nodeCommandFlags, nodeLauncherScript, WORKER_OLD_SPACE_FLOOR_MIB } from './node-options.ts';

describe('nodeCommandFlags', () => {
  it("gives the worker its old-generation floor on top of every process's flags", () => {
    expect(nodeCommandFlags('worker')).toEqual([...NODE_COMMAND_FLAGS, `--initial-old-space-size=${WORKER_OLD_SPACE_FLOOR_MIB}`]);
  });

  it('gives every other command the flags of every process alone', () => {
    for (const command of ['api', 'migrate', 'seed', undefined]) expect(nodeCommandFlags(command)).toEqual(NODE_COMMAND_FLAGS);
  });
});

describe('nodeLauncherScript', () => {
  // The script next to a stand-in eap.js, and a stand-in `node` on PATH that prints its arguments
  // one per line: what the image's entry point would start.
  const dir = mkdtempSync(join(tmpdir(), 'eap-launcher-'));
  const script = join(dir, 'bin', 'eap-node.sh');
  const fakeBin = join(dir, 'fake-bin');
  mkdirSync(join(dir, 'bin'));
  mkdirSync(fakeBin);
  writeFileSync(script, nodeLauncherScript());
  writeFileSync(join(fakeBin, 'node'), '#!/bin/sh\nfor a in "$@"; do printf \'%s\\n\' "$a"; done\n');
  chmodSync(join(fakeBin, 'node'), 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const started = (...args: string[]) => {
    const run = spawnSync('/bin/sh', [script, ...args], { encoding: 'utf8', env: { PATH: `${fakeBin}:/usr/bin:/bin` } });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout.split('\n').slice(0, -1);
  };

  it("starts the worker with the worker's flags, and its arguments unchanged", () => {
    expect(started('worker', '--help', 'a b')).toEqual([
      ...nodeCommandFlags('worker'),
      join(dir, 'bin', 'eap.js'),
      'worker',
      '--help',
      'a b',
    ]);
  });

  it('starts every other command with the flags of every process', () => {
    expect(started('api')).toEqual([...NODE_COMMAND_FLAGS, join(dir, 'bin', 'eap.js'), 'api']);
    expect(started('migrate', 'up')).toEqual([...NODE_COMMAND_FLAGS, join(dir, 'bin', 'eap.js'), 'migrate', 'up']);
    expect(started()).toEqual([...NODE_COMMAND_FLAGS, join(dir, 'bin', 'eap.js')]);
  });
});
