import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testTotals, type VitestReport } from './test-summary.ts';

const passedFile = { name: 'a.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }, { status: 'skipped' }] };

function report(...files: VitestReport['testResults']): VitestReport {
  const all = files.flatMap((file) => file.assertionResults);
  return {
    numPassedTests: all.filter((test) => test.status === 'passed').length,
    numFailedTests: all.filter((test) => test.status === 'failed').length,
    testResults: files,
  };
}

describe('the totals of a test run', () => {
  it('counts passed and failed tests; a skipped test in a passing file is neither', () => {
    const failing = { name: 'b.test.ts', status: 'failed', assertionResults: [{ status: 'failed' }, { status: 'passed' }] };
    expect(testTotals(report(passedFile, failing))).toEqual({ passed: 2, failed: 1 });
  });

  it('counts the tests of a file whose setup failed as failed, though vitest reports them skipped', () => {
    const setupFailed = { name: 'c.test.ts', status: 'failed', assertionResults: [{ status: 'skipped' }, { status: 'skipped' }] };
    const r = report(passedFile, setupFailed);
    expect(r.numFailedTests).toBe(0);
    expect(testTotals(r)).toEqual({ passed: 1, failed: 2 });
  });

  it('counts a file that failed before reporting any test as one failure', () => {
    expect(testTotals(report(passedFile, { name: 'd.test.ts', status: 'failed', assertionResults: [] }))).toEqual({ passed: 1, failed: 1 });
  });

  it('prints the line CI reads and exits 1 when a setup failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eap-summary-'));
    const file = join(dir, 'results.json');
    const setupFailed = { name: 'c.test.ts', status: 'failed', assertionResults: [{ status: 'skipped' }] };
    writeFileSync(file, JSON.stringify(report(passedFile, setupFailed)));
    const run = spawnSync(process.execPath, [fileURLToPath(new URL('./test-summary.ts', import.meta.url)), file], { encoding: 'utf8' });
    expect(run.stdout).toBe('1 passed, 1 failed\n');
    expect(run.status).toBe(1);
    writeFileSync(file, JSON.stringify(report(passedFile)));
    const clean = spawnSync(process.execPath, [fileURLToPath(new URL('./test-summary.ts', import.meta.url)), file], { encoding: 'utf8' });
    expect(clean.stdout).toBe('1 passed, 0 failed\n');
    expect(clean.status).toBe(0);
  });
});
