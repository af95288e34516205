import { describe, expect, it } from 'vitest';
import { lastTimeParser } from './batch-processor.ts';

describe('lastTimeParser', () => {
  it('gives what Date.parse gives, for repeated, changed, equal-but-separate and invalid strings', () => {
    const parse = lastTimeParser();
    const a = '2026-11-29T19:00:00.000Z';
    // The same text as another string object, as each event's JSON gives it.
    const aAgain = JSON.parse(JSON.stringify(a)) as string;
    const b = '2026-11-29T19:00:00.001Z';
    const inputs = [a, a, aAgain, b, a, 'not a time', 'not a time', b, '2026-11-29T20:00:00+01:00'];
    expect(inputs.map(parse)).toEqual(inputs.map((s) => Date.parse(s)));
    expect(parse(b)).toBe(Date.UTC(2026, 10, 29, 19, 0, 0, 1));
  });

  it('keeps its memory per parser', () => {
    const first = lastTimeParser();
    const second = lastTimeParser();
    expect(first('2026-01-01T00:00:00.000Z')).toBe(Date.UTC(2026, 0, 1));
    expect(second('2027-01-01T00:00:00.000Z')).toBe(Date.UTC(2027, 0, 1));
    expect(first('2026-01-01T00:00:00.000Z')).toBe(Date.UTC(2026, 0, 1));
  });
});
