/**
 * The Argo CD health check of an EventPipeline (charts/eap-operator/argocd/eventpipeline-health.lua,
 * shown in docs/helm.md), run by a real Lua interpreter on EventPipelines whose conditions the
 * operator's own functions decide. Argo CD runs health checks with gopher-lua (Lua 5.1): lua5.1
 * is preferred, lua5.4 or lua accepted (Debian: `apt-get install -y lua5.1`); without any, these
 * tests are skipped (test/helm-docs.unit.test.ts still checks the script shown in docs/helm.md).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventPipelineStatus } from '@eap/manifests';
import { afterAll, describe, expect, it } from 'vitest';
import { apiCondition, type DeploymentLike, workersCondition } from '../operator/src/reconcile/availability.ts';
import { type ConditionUpdate, mergeConditions, readyCondition } from '../operator/src/reconcile/conditions.ts';
import { migrationOutcome, migrationsCondition } from '../operator/src/reconcile/migration-gate.ts';

const root = new URL('../', import.meta.url).pathname;
const SCRIPT = `${root}charts/eap-operator/argocd/eventpipeline-health.lua`;
const lua = ['lua5.1', 'lua5.4', 'lua'].find((binary) => spawnSync(binary, ['-v']).status === 0);
const dir = mkdtempSync(join(tmpdir(), 'eap-argocd-health-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Lua string literal: quotes and backslashes escaped, control characters as decimal escapes. */
const luaString = (text: string) =>
  `"${[...text].map((c) => (c === '\\' || c === '"' ? `\\${c}` : c.charCodeAt(0) < 32 ? `\\${c.charCodeAt(0)}` : c)).join('')}"`;

/** A JSON value as a Lua table constructor (arrays 1-based, as Argo CD hands objects to Lua). */
function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([key, entry]) => `[${luaString(key)}] = ${luaLiteral(entry)}`)
    .join(', ')}}`;
}

let cases = 0;
/** Runs the health check on `object` as Argo CD does: `obj` global, the script's returned table. */
function health(object: Record<string, unknown>): { status: string; message: string } {
  const file = join(dir, `case-${cases++}.lua`);
  writeFileSync(
    file,
    `obj = ${luaLiteral(object)}
local f = assert(io.open(arg[1], "r"))
local check = assert((loadstring or load)(f:read("*a")))
f:close()
local hs = check()
io.write(hs.status, "\\n", hs.message or "")
`,
  );
  const [status = '', ...message] = execFileSync(lua as string, [file, SCRIPT], { encoding: 'utf8' }).split('\n');
  return { status, message: message.join('\n') };
}

const NOW = '2026-01-01T00:00:00Z';
const pipeline = (generation: number, status?: EventPipelineStatus) => ({
  apiVersion: 'eap.dev/v1alpha1',
  kind: 'EventPipeline',
  metadata: { name: 'demo', namespace: 'eap', generation },
  spec: {},
  ...(status ? { status } : {}),
});
/** The status the operator writes for these parts: Ready summarizes them. */
const statusOf = (observedGeneration: number, parts: ConditionUpdate[]): EventPipelineStatus => ({
  observedGeneration,
  conditions: mergeConditions(undefined, [readyCondition(parts), ...parts], observedGeneration, NOW).conditions,
});
const deployment = (replicas: number, available: number): DeploymentLike => ({
  metadata: { generation: 1 },
  spec: { replicas },
  status: { observedGeneration: 1, replicas, updatedReplicas: replicas, availableReplicas: available },
});
const IMAGE = 'ghcr.io/eap-dev/eap:0.1.0';
const job = (conditions: Array<{ type: string; status: string; reason?: string; message?: string }>) =>
  migrationOutcome({ metadata: { name: 'demo-migrate-abc' }, status: { conditions } });
const succeeded = migrationsCondition('demo-migrate-abc', IMAGE, job([{ type: 'Complete', status: 'True' }]), IMAGE);

describe.skipIf(!lua)(`Argo CD health of an EventPipeline (${lua ?? 'no Lua interpreter'})`, () => {
  it('is Progressing until the operator reports, and while it has not observed the current generation', () => {
    expect(health(pipeline(1))).toEqual({ status: 'Progressing', message: 'Waiting for the operator to report on this EventPipeline' });
    const readyForOne = statusOf(1, [succeeded, apiCondition(deployment(2, 2), true), workersCondition(deployment(1, 1), true)]);
    expect(health(pipeline(1, readyForOne)).status).toBe('Healthy');
    expect(health(pipeline(2, readyForOne))).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 2',
    });
  });

  it('is Healthy when Ready: migrations complete, API and workers available', () => {
    const status = statusOf(3, [succeeded, apiCondition(deployment(2, 2), true), workersCondition(deployment(1, 1), true)]);
    expect(health(pipeline(3, status))).toEqual({ status: 'Healthy', message: 'migrations complete; API and workers available' });
  });

  it('is Progressing while migrations run, a rollout goes on or pods are not yet available', () => {
    const running = migrationsCondition('demo-migrate-abc', IMAGE, job([]), undefined);
    const fresh = statusOf(1, [running, apiCondition(undefined, false), workersCondition(undefined, false)]);
    expect(health(pipeline(1, fresh))).toEqual({
      status: 'Progressing',
      message:
        'MigrationsRunning: MigrationsComplete: Job demo-migrate-abc is running; ApiAvailable: the API Deployment is created once the first migrations complete; WorkersAvailable: the worker Deployment is created once the first migrations complete',
    });

    const rollingOut: DeploymentLike = {
      ...deployment(2, 2),
      status: { observedGeneration: 1, replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
    };
    const rollout = statusOf(1, [succeeded, apiCondition(rollingOut, true), workersCondition(deployment(1, 1), true)]);
    expect(health(pipeline(1, rollout)).status).toBe('Progressing');
    expect(health(pipeline(1, rollout)).message).toMatch(/^RollingOut: /);

    const unavailable = statusOf(1, [succeeded, apiCondition(deployment(2, 1), true), workersCondition(deployment(1, 1), true)]);
    expect(health(pipeline(1, unavailable))).toEqual({
      status: 'Progressing',
      message: 'Unavailable: ApiAvailable: 1/2 replicas available, 2 updated',
    });
  });

  it('is Degraded when a person must act: the migration Job failed (the previous image keeps serving), or the spec is invalid', () => {
    const failedJob = job([
      { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
    ]);
    const failed = migrationsCondition('demo-migrate-abc', 'ghcr.io/eap-dev/eap:0.2.0', failedJob, IMAGE);
    const status = statusOf(2, [failed, apiCondition(deployment(2, 2), true), workersCondition(deployment(1, 1), true)]);
    const result = health(pipeline(2, status));
    expect(result.status).toBe('Degraded');
    expect(result.message).toContain(
      'failed (BackoffLimitExceeded: Job has reached the specified backoff limit); ghcr.io/eap-dev/eap:0.1.0 keeps serving',
    );

    const invalid: EventPipelineStatus = {
      observedGeneration: 4,
      conditions: mergeConditions(
        undefined,
        [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'spec.worker.maxReplicas: Too small' }],
        4,
        NOW,
      ).conditions,
    };
    expect(health(pipeline(4, invalid))).toEqual({ status: 'Degraded', message: 'Invalid spec: spec.worker.maxReplicas: Too small' });
  });
});
