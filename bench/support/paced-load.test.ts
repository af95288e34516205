import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestsDue, runPacedLoad } from './paced-load.ts';

describe('requestsDue', () => {
  it('spreads the requests of each second evenly over it', () => {
    expect([0, 4, 5, 9, 10, 999, 1000, 1500].map((ms) => requestsDue(ms, 200))).toEqual([0, 0, 1, 1, 2, 199, 200, 300]);
    expect(requestsDue(250, 4)).toBe(1);
    expect(requestsDue(249, 4)).toBe(0);
  });
});

describe('runPacedLoad', () => {
  const arrivals: { at: number; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      arrivals.push({ at: performance.now(), body });
      res.writeHead(body === 'bad' ? 400 : 202).end();
    });
  });
  let url = '';
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('sends the bodies in turn at the pace asked, over the whole duration, and counts what was refused', async () => {
    const result = await runPacedLoad({ url, path: '/x', ratePerS: 40, durationS: 1, bodies: ['a', 'b', 'bad', 'c'] });
    // 40 per second, the last one due just before the end.
    expect(result.requests).toBeGreaterThanOrEqual(38);
    expect(result.requests).toBeLessThanOrEqual(40);
    expect(arrivals).toHaveLength(result.requests);
    expect(arrivals.slice(0, 5).map((a) => a.body)).toEqual(['a', 'b', 'bad', 'c', 'a']);
    expect(result.non2xx).toBe(arrivals.filter((a) => a.body === 'bad').length);
    expect(result.errors).toBe(0);
    expect(result.latencyP99Ms).toBeGreaterThan(0);
    // Spread over the second (about 950 ms from the first to the last), not sent at its start as
    // autocannon's rate sends them (a few ms). The bound leaves room for a busy machine stalling
    // this process: only a stall of most of the second could make them arrive together.
    const span = arrivals.at(-1)!.at - arrivals[0]!.at;
    expect(span).toBeGreaterThan(250);
  });
});
