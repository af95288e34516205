// Prints "N passed, N failed" from a vitest JSON report; exits 1 when any test failed or none ran.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface FileResult {
  name: string;
  status: string;
  assertionResults: { status: string }[];
}

export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: FileResult[];
}

/**
 * The totals of a run. A file whose setup failed (a `beforeAll` that threw, an import error)
 * reports its tests as skipped, not failed, and vitest's own count says 0 failed: each test of
 * such a file that did not pass counts as failed here, and the file counts as one failure when
 * it reported no tests at all.
 */
export function testTotals(report: VitestReport): { passed: number; failed: number } {
  let failed = report.numFailedTests;
  for (const file of report.testResults) {
    if (file.status !== 'failed' || file.assertionResults.some((test) => test.status === 'failed')) continue;
    failed += Math.max(1, file.assertionResults.filter((test) => test.status !== 'passed').length);
  }
  return { passed: report.numPassedTests, failed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? '.eap/vitest-results.json';
  const { passed, failed } = testTotals(JSON.parse(readFileSync(file, 'utf8')) as VitestReport);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
