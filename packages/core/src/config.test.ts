import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, intVar, parseEnv, urlVar } from './config.ts';

const Schema = z.object({
  DATABASE_URL: urlVar(['postgres:']),
  PORT: intVar(8000, 0, 65535),
  SHARDS: intVar(4, 1, 16),
});

describe('parseEnv', () => {
  it('applies defaults and coerces numbers', () => {
    expect(parseEnv(Schema, { DATABASE_URL: 'postgres://x@h/db', PORT: '' })).toEqual({
      DATABASE_URL: 'postgres://x@h/db',
      PORT: 8000,
      SHARDS: 4,
    });
  });

  it('lists every bad variable at once and hides URL values', () => {
    try {
      parseEnv(Schema, { DATABASE_URL: 'mysql://secret@h/db', PORT: '99999', SHARDS: 'four' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems.map((p) => p.split(':')[0])).toEqual(['DATABASE_URL', 'PORT', 'SHARDS']);
      expect((error as Error).message).not.toContain('secret');
      expect(problems[1]).toContain('must be <= 65535');
    }
  });
});
