import { describe, expect, it } from 'vitest';
import { RECOMMENDED_NODE_OPTIONS } from '@eap/core';
import { testPipeline } from './pipeline.fixture.ts';
import { buildApiDeployment, buildWorkerDeployment, memoryMiB } from './workloads.ts';

type Container = { env: { name: string; value?: string }[]; resources: { limits?: Record<string, string> } };
const containerOf = (deployment: { spec: unknown }) =>
  (deployment.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
const nodeOptions = (c: Container) => c.env.find((e) => e.name === 'NODE_OPTIONS')?.value;

describe('memoryMiB', () => {
  it('reads Kubernetes memory quantities', () => {
    expect(memoryMiB('384Mi')).toBe(384);
    expect(memoryMiB('1Gi')).toBe(1024);
    expect(memoryMiB('1G')).toBeCloseTo(953.67, 2);
    expect(memoryMiB(536_870_912)).toBe(512);
    expect(memoryMiB('5e8')).toBeCloseTo(476.84, 2);
    expect(memoryMiB('512Ki')).toBe(0.5);
    expect(memoryMiB(undefined)).toBeUndefined();
    expect(memoryMiB('lots')).toBeUndefined();
  });
});

describe('the V8 heap of the API and worker containers', () => {
  it('is derived from their memory limits, which by default are the ones the project ships', () => {
    const p = testPipeline();
    expect(containerOf(buildWorkerDeployment(p, 'eap:1')).resources.limits?.memory).toBe('384Mi');
    expect(nodeOptions(containerOf(buildWorkerDeployment(p, 'eap:1')))).toBe(RECOMMENDED_NODE_OPTIONS.worker);
    expect(nodeOptions(containerOf(buildApiDeployment(p, 'eap:1')))).toBe(RECOMMENDED_NODE_OPTIONS.api);
  });

  it('follows a changed limit, and is left to V8 without one', () => {
    const big = testPipeline({ worker: { resources: { limits: { memory: '2Gi' } } } });
    expect(nodeOptions(containerOf(buildWorkerDeployment(big, 'eap:1')))).toBe('--max-semi-space-size=4 --max-old-space-size=1228');
    const unlimited = testPipeline({ worker: { resources: { requests: { memory: '256Mi' } } } });
    expect(nodeOptions(containerOf(buildWorkerDeployment(unlimited, 'eap:1')))).toBe('--max-semi-space-size=4');
  });
});
