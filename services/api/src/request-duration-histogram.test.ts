import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createApiMetrics } from './metrics.ts';
import { RequestDurationHistogram } from './request-duration-histogram.ts';

// The API's own histogram: its name, help and buckets, as shipped.
const shipped = createApiMetrics().requestDuration;
const options = { name: shipped.name, help: shipped.help, buckets: [...shipped.upperBounds] };

describe('RequestDurationHistogram', () => {
  it("exposes what prom-client's Histogram exposes for the same observations", async () => {
    const reference = new Registry();
    const ours = new Registry();
    const histogram = new Histogram({ ...options, labelNames: ['method', 'route', 'status_code'] as const, registers: [reference] });
    const fast = new RequestDurationHistogram({ ...options, registers: [ours] });
    const observations: [string, string, number, number][] = [
      ['POST', '/v1/events', 202, 0.0004],
      ['POST', '/v1/events', 202, 0.0005],
      ['POST', '/v1/batch', 400, 0.003],
      ['GET', '/v1/trends', 200, 0.7],
      ['POST', '/v1/events', 202, 0.0011],
      ['POST', '/v1/events', 503, 7],
      ['GET', 'unmatched', 404, 0],
      ['POST', '/v1/events', 202, 0.25],
    ];
    for (const [method, route, status, seconds] of observations) {
      histogram.observe({ method, route, status_code: String(status) }, seconds);
      fast.observe(method, route, status, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain('eap_api_request_duration_seconds_bucket{le="0.001",method="POST",route="/v1/events",status_code="202"} 2');
    expect(await ours.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());

    ours.resetMetrics();
    reference.resetMetrics();
    expect(await ours.metrics()).toBe(await reference.metrics());
  });
});
