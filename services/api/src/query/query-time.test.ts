import { describe, expect, it } from 'vitest';
import { alignedCore, bucketsOnUtcDays, bucketsOnUtcHours, checkBucketCount } from './query-time.ts';

const range = (from: string, to: string) => ({ from, to, fromMs: Date.parse(from), toMs: Date.parse(to) });
const HOUR = 3_600_000;

describe('aligned core of a range', () => {
  it('splits a range into whole units and partial edges', () => {
    expect(alignedCore(range('2026-01-01T10:30:00.000000Z', '2026-01-01T13:15:00.000000Z'), HOUR)).toEqual({
      coreFrom: '2026-01-01T11:00:00.000Z',
      coreTo: '2026-01-01T13:00:00.000Z',
      leftEdge: true,
      rightEdge: true,
    });
    expect(alignedCore(range('2026-01-01T10:00:00.000000Z', '2026-01-01T12:00:00.000000Z'), HOUR)).toMatchObject({
      leftEdge: false,
      rightEdge: false,
    });
  });

  it('counts microseconds: a from 1 µs after the hour starts the core at the next hour', () => {
    expect(alignedCore(range('2026-01-01T10:00:00.000001Z', '2026-01-01T12:00:00.000000Z'), HOUR)).toMatchObject({
      coreFrom: '2026-01-01T11:00:00.000Z',
      leftEdge: true,
    });
    expect(alignedCore(range('2026-01-01T10:00:00.000000Z', '2026-01-01T12:00:00.000001Z'), HOUR)).toMatchObject({ rightEdge: true });
  });

  it('has no core when the range holds no whole unit', () => {
    expect(alignedCore(range('2026-01-01T10:10:00.000000Z', '2026-01-01T10:50:00.000000Z'), HOUR)).toBeNull();
  });
});

describe('buckets', () => {
  it('tells whether buckets start on UTC hours or days', () => {
    const newYork = [{ t: '2026-03-08T00:00:00-05:00', utc: '2026-03-08T05:00:00.000000Z' }];
    expect(bucketsOnUtcHours(newYork)).toBe(true);
    expect(bucketsOnUtcDays(newYork)).toBe(false);
    expect(bucketsOnUtcHours([{ t: '2026-03-08T00:00:00+05:30', utc: '2026-03-07T18:30:00.000000Z' }])).toBe(false);
  });

  it('refuses ranges with more than 2,000 buckets', () => {
    expect(() => checkBucketCount(range('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), 'minute')).not.toThrow();
    expect(() => checkBucketCount(range('2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z'), 'minute')).toThrow(/2881 minute buckets/);
  });
});
