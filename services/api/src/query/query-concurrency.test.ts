import { describe, expect, it } from 'vitest';
import { EapError } from '@eap/core';
import { createQueryConcurrency } from './query-concurrency.ts';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as EapError;
  }
  throw new Error('expected a refusal');
};

describe('createQueryConcurrency', () => {
  it('refuses a key over its own limit, then the process over the total, naming the limit', () => {
    const refused: string[] = [];
    const limits = createQueryConcurrency({ perKey: 2, total: 3, onRefused: (limit) => refused.push(limit) });
    const a1 = limits.acquire('a');
    limits.acquire('a');
    const perKey = refusal(() => limits.acquire('a'));
    expect(perKey).toBeInstanceOf(EapError);
    expect(perKey).toMatchObject({ code: 'TOO_MANY_QUERIES', status: 429, retryAfterSeconds: 1 });
    expect(perKey.details).toEqual({ limit: 'per_key', setting: 'QUERY_MAX_CONCURRENT_PER_KEY', max: 2 });
    expect(perKey.message).toContain('QUERY_MAX_CONCURRENT_PER_KEY');
    limits.acquire('b');
    const perProcess = refusal(() => limits.acquire('c'));
    expect(perProcess.details).toEqual({ limit: 'per_process', setting: 'QUERY_MAX_CONCURRENT', max: 3 });
    expect(refused).toEqual(['per_key', 'per_process']);
    // A slot given back (twice counts once) is free again, for any key.
    a1();
    a1();
    expect(limits.running()).toBe(2);
    limits.acquire('c');
    expect(() => limits.acquire('d')).toThrow(EapError);
  });

  it('holds the slot while the work runs and gives it back when it fails', async () => {
    const running: number[] = [];
    const limits = createQueryConcurrency({ perKey: 1, total: 10, onRunning: (n) => running.push(n) });
    let finish: () => void = () => {};
    const first = limits.run('a', () => new Promise<void>((resolve) => (finish = resolve)));
    await expect(limits.run('a', async () => 'second')).rejects.toMatchObject({ code: 'TOO_MANY_QUERIES' });
    finish();
    await first;
    await expect(limits.run('a', async () => Promise.reject(new Error('query failed')))).rejects.toThrow('query failed');
    expect(await limits.run('a', async () => 'after')).toBe('after');
    expect(limits.running()).toBe(0);
    expect(running).toEqual([1, 0, 1, 0, 1, 0]);
  });
});
