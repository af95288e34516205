import { describe, expect, it } from 'vitest';
import { diffHistogram, histogramQuantile, parseHistogram } from './histogram.ts';

const text = `# HELP h x
h_bucket{le="0.1"} 50
h_bucket{le="0.5"} 90
h_bucket{le="1"} 100
h_bucket{le="+Inf"} 100
h_sum 20
h_count 100`;

describe('histogram helpers', () => {
  it('parses buckets and interpolates quantiles like histogram_quantile', () => {
    const b = parseHistogram(text, 'h');
    expect(b.get(0.5)).toBe(90);
    expect(histogramQuantile(b, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(b, 0.7)).toBeCloseTo(0.3);
    expect(histogramQuantile(b, 0.99)).toBeCloseTo(0.95);
  });

  it('subtracts an earlier reading', () => {
    const before = parseHistogram(text, 'h');
    const after = new Map([...before].map(([k, v]) => [k, v * 2]));
    expect(diffHistogram(after, before)).toEqual(before);
    expect(histogramQuantile(new Map([[1, 0]]), 0.5)).toBeNull();
  });
});
