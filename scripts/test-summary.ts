// Prints "N passed, N failed" from a vitest JSON report; exits 1 when any test failed or none ran.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.eap/vitest-results.json';
const report = JSON.parse(readFileSync(file, 'utf8')) as { numPassedTests: number; numFailedTests: number; numTotalTests: number };
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed`);
process.exit(report.numFailedTests === 0 && report.numPassedTests > 0 ? 0 : 1);
