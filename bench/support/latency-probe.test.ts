import { describe, expect, it } from 'vitest';
import { summarize } from './latency-probe.ts';

describe('summarize', () => {
  it('ranks unanswered requests as the slowest and reports them as no answer', () => {
    const answered = Array.from({ length: 98 }, (_, i) => ({ ms: i + 1, status: 200 }));
    const summary = summarize([...answered, { ms: 10_000, status: null }, { ms: 10_000, status: null }]);
    expect(summary).toEqual({ sent: 100, answered: 98, ok: 98, p50_ms: 50, p99_ms: 'no answer', max_answered_ms: 98 });
    expect(summarize([]).p50_ms).toBeNull();
  });
});
