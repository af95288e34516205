import { describe, expect, it } from 'vitest';
import { describeGcTrace, summarizeGcTrace } from './gc-trace.ts';

// Lines as node 24 prints them with --trace-gc-nvp (shortened: the fields between are left out),
// between two log lines of the process.
const OUTPUT = [
  '{"level":40,"msg":"Redis has no maxmemory"}',
  '[2116:0x2e0b4000:0] 3104 ms: pause=2.3 mutator=25.1 gc=s reduce_memory=0 scavenge=1.90 allocated=8388608 promoted=1001640 new_space_survived=1586544 new_space_capacity=8388608',
  '[2116:0x2e0b4000:0] 3131 ms: pause=1.7 mutator=24.9 gc=s reduce_memory=0 scavenge=1.40 allocated=8388608 promoted=893592 new_space_survived=1265992 new_space_capacity=8388608',
  '[2116:0x2e0b4000:0] 3170 ms: pause=6.8 mutator=30.2 gc=mc reduce_memory=0 promoted=3199992 new_space_survived=0',
  '{"level":30,"msg":"stopping"}',
].join('\n');

describe('V8 garbage collection trace', () => {
  it('counts scavenges and the other collections, and sums pauses, survivors and promotions of scavenges', () => {
    const trace = summarizeGcTrace(OUTPUT);
    expect(trace.scavenges).toBe(2);
    expect(trace.majors).toBe(1);
    expect(trace.pauseMs).toBeCloseTo(10.8, 5);
    expect(trace.survivedBytes).toBe(1586544 + 1265992);
    // A major collection's "promoted" is not a scavenge's promotion.
    expect(trace.promotedBytes).toBe(1001640 + 893592);
  });

  it('reads nothing from output without trace lines', () => {
    expect(summarizeGcTrace('{"level":30}\nready\n')).toEqual({ scavenges: 0, majors: 0, pauseMs: 0, survivedBytes: 0, promotedBytes: 0 });
  });

  it('describes the trace per 1,000 events and per event', () => {
    expect(describeGcTrace(summarizeGcTrace(OUTPUT), 2000)).toEqual([
      'per 1,000 events: 1.00 scavenges, 0.500 other collections, 5.40 ms of pauses',
      'per event: 1426 bytes survived a scavenge, 948 promoted',
    ]);
  });
});
