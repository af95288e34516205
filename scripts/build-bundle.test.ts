import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepAscii } from './build-bundle.ts';

/** Writes `code` to a new file and returns its path. */
function fileWith(code: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'eap-ascii-')), 'bundle.js');
  writeFileSync(file, code);
  return file;
}

describe('the bundle kept ASCII', () => {
  it('replaces what comments hold beyond ASCII, unit for unit, and leaves the code as it was', async () => {
    const code = 'const a = 1; /* 2 µs — ok */ const b = "\\u00e9";\n// a pair: 😀\nexport { a, b };\n';
    const file = fileWith(code);
    await keepAscii(file);
    const ascii = readFileSync(file, 'utf8');
    expect(ascii).toBe('const a = 1; /* 2 ?s ? ok */ const b = "\\u00e9";\n// a pair: ??\nexport { a, b };\n');
    // Same length in UTF-16 units, so every column of the source map still points where it did.
    expect(ascii.length).toBe(code.length);
  });

  it('refuses a character outside comments rather than change the program', async () => {
    const file = fileWith('export const dash = "—";\n');
    await expect(keepAscii(file)).rejects.toThrow(/non-ASCII characters outside comments/);
    expect(readFileSync(file, 'utf8')).toBe('export const dash = "—";\n');
  });

  it('leaves an ASCII file alone', async () => {
    const file = fileWith('export const a = 1;\n');
    await keepAscii(file);
    expect(readFileSync(file, 'utf8')).toBe('export const a = 1;\n');
  });
});
