import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeHeapProfile } from './heap-profile-summary.ts';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
const node = (callFrame: ReturnType<typeof frame>, selfSize: number, children: unknown[] = []) => ({ callFrame, selfSize, children });

describe('sampling heap profile summary', () => {
  it('adds up each function wherever it sits in the tree, per unit, most first', () => {
    const decode = frame('decode', 'file:///repo/packages/core/src/stream-entry.ts', 332);
    const profile = {
      head: node(frame('(root)'), 0, [
        node(frame('main', 'file:///repo/services/worker/src/worker.ts', 9), 1000, [node(decode, 6000)]),
        node(frame('other', 'file:///repo/node_modules/ioredis/built/Command.js', 60), 1000, [node(decode, 2000)]),
      ]),
    };
    const path = join(mkdtempSync(join(tmpdir(), 'eap-heap-summary-')), 'p.heapprofile');
    writeFileSync(path, JSON.stringify(profile));
    expect(summarizeHeapProfile(path, 10, 'event', 2)).toEqual([
      '1000 bytes allocated per event (0 MiB in all)',
      '   800   80.0 %  decode  packages/core/src/stream-entry.ts:333',
      '   100   10.0 %  main  services/worker/src/worker.ts:10',
    ]);
  });
});
