import { readFileSync } from 'node:fs';
import { intVar, urlVar } from '@eap/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildConfigReference, CONFIGURED_PROCESSES, describeVariable } from './config-reference.ts';

describe('configuration reference', () => {
  it('matches the committed docs/configuration.md (run `make docs` after changing a config schema)', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(buildConfigReference());
  });

  it('documents every variable of every process, with a description', () => {
    const doc = buildConfigReference();
    for (const process of CONFIGURED_PROCESSES) {
      for (const [name, field] of Object.entries(process.schema.shape)) {
        expect(doc, name).toContain(`| \`${name}\``);
        expect((field as z.ZodType).description, `${name} needs .describe()`).toBeTruthy();
      }
    }
    expect(doc).toContain('## `eap api`');
    expect(doc).toContain('## `eap worker`');
    expect(doc).toContain('`eap migrate`');
  });

  it('reads default, range and format from the schema itself', () => {
    expect(describeVariable('PORT', intVar(8000, 0, 65535).describe('Public port.'))).toEqual({
      name: 'PORT',
      default: '`8000`',
      allowed: 'integer, 0 to 65,535',
      description: 'Public port.',
    });
    expect(describeVariable('DATABASE_URL', urlVar(['postgres:', 'postgresql:']).describe('URL.'))).toMatchObject({
      default: '**required**',
      allowed: 'URL: `postgres://` or `postgresql://`',
    });
    expect(describeVariable('TOKEN', z.string().min(16).optional().describe('A token.'))).toMatchObject({
      default: 'unset',
      allowed: 'string, at least 16 characters',
    });
    expect(describeVariable('LEVEL', z.enum(['info', 'debug']).default('info').describe('Level.'))).toMatchObject({
      default: '`info`',
      allowed: '`info`, `debug`',
    });
  });

  it('refuses a variable without a description', () => {
    expect(() => describeVariable('UNDOCUMENTED', intVar(1, 0, 2))).toThrow(/UNDOCUMENTED has no description/);
  });

  it('lists a shared variable once, with every process that reads it', () => {
    const doc = buildConfigReference();
    expect(doc.match(/\| `STREAM_SHARDS`/g)).toHaveLength(1);
    const row = doc.split('\n').find((line) => line.startsWith('| `STREAM_SHARDS`'))!;
    expect(row).toContain('`eap api`, `eap worker`, `eap dlq`');
    // SHUTDOWN_DRAIN_MS is not shared: the API and the worker have their own defaults.
    expect(doc).toMatch(/\| `SHUTDOWN_DRAIN_MS` +\| `8000`/);
    expect(doc).toMatch(/\| `SHUTDOWN_DRAIN_MS` +\| `20000`/);
  });
});
