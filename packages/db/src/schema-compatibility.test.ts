import { describe, expect, it } from 'vitest';
import { schemaCompatibility } from './migrator.ts';

describe('schemaCompatibility', () => {
  it('refuses a database behind the code: it needs eap migrate up', () => {
    expect(schemaCompatibility(0, 2)).toEqual({ ok: false, state: 'behind' });
    expect(schemaCompatibility(1, 2)).toEqual({ ok: false, state: 'behind' });
  });

  it('serves a database at the code version', () => {
    expect(schemaCompatibility(2, 2)).toEqual({ ok: true, state: 'current' });
  });

  it('keeps serving a database ahead of the code, as old pods do while a new image rolls out', () => {
    expect(schemaCompatibility(3, 2)).toEqual({ ok: true, state: 'ahead' });
    expect(schemaCompatibility(4, 2)).toEqual({ ok: true, state: 'ahead' });
  });
});

describe('schemaCompatibility with a declared range', () => {
  it('serves a newer database only while its newer migrations declare they work with this code', () => {
    expect(schemaCompatibility(4, 3, 3)).toEqual({ ok: true, state: 'ahead' });
    expect(schemaCompatibility(4, 3, 2)).toEqual({ ok: true, state: 'ahead' });
    expect(schemaCompatibility(4, 3, 4)).toEqual({ ok: false, state: 'incompatible' });
    expect(schemaCompatibility(3, 3, 4)).toEqual({ ok: true, state: 'current' });
  });
});
