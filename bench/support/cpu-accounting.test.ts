import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { machineTimes, processTree, stealPercent, stealSince } from './cpu-accounting.ts';

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

describe('machineTimes and stealPercent', () => {
  const stat = (user: number, idle: number, steal: number) => `cpu  ${user} 10 20 ${idle} 5 1 2 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n`;

  it('splits the first line of /proc/stat into busy, stolen and total seconds', () => {
    expect(machineTimes(stat(300, 400, 50))).toEqual({ busy: 3.33, steal: 0.5, total: 7.88 });
  });

  it('gives the share of the time between two readings that was stolen', () => {
    // 1,000 ticks pass: 600 busy, 150 idle, 250 stolen.
    expect(stealPercent(machineTimes(stat(300, 400, 50)), machineTimes(stat(900, 550, 300)))).toBe(25);
    expect(stealPercent(machineTimes(stat(300, 400, 50)), machineTimes(stat(300, 400, 50)))).toBe(0);
  });

  it('reads this machine', () => {
    const now = machineTimes();
    expect(now.total).toBeGreaterThan(now.busy + now.steal);
  });
});

describe('stealSince', () => {
  it('reads the machine when its window starts and each time it is asked', () => {
    const stat = (user: number, idle: number, steal: number) => `cpu  ${user} 10 20 ${idle} 5 1 2 ${steal} 0 0\n`;
    const readings = [stat(300, 400, 50), stat(900, 550, 300), stat(1900, 550, 300)];
    const stolen = stealSince(() => machineTimes(readings.shift()));
    // 1,000 ticks with 250 stolen, then 2,000 with the same 250.
    expect(stolen()).toBe(25);
    expect(stolen()).toBe(12.5);
  });
});
