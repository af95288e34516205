import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { processTree } from './cpu-accounting.ts';

describe('processTree', () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  it('lists a matching child of a matching process once, and a child that does not match', async () => {
    const marker = `eap-tree-${randomUUID()}`;
    // A parent and two children, all carrying the marker on their command line but the last.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         const wait = ['-e', 'setTimeout(() => {}, 60000)'];
         const a = spawn(process.execPath, [...wait, process.argv[1]], { stdio: 'ignore' });
         const b = spawn(process.execPath, wait, { stdio: 'ignore' });
         console.log(a.pid + ' ' + b.pid);
         setTimeout(() => {}, 60000);`,
        marker,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    stops.push(() => parent.kill('SIGKILL'));
    const [matching, plain] = (await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(String(d)))))
      .trim()
      .split(' ')
      .map(Number);
    stops.push(
      () => process.kill(matching!, 'SIGKILL'),
      () => process.kill(plain!, 'SIGKILL'),
    );
    const tree = processTree(marker);
    expect(tree.toSorted((x, y) => x - y)).toEqual([parent.pid!, matching!, plain!].toSorted((x, y) => x - y));
  });
});
