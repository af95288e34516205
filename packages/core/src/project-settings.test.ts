import { describe, expect, it } from 'vitest';
import { isOriginAllowed, ProjectSettingsUpdate, readProjectSettings } from './project-settings.ts';

describe('ProjectSettings', () => {
  it('fills every default in, and keeps what is stored', () => {
    expect(readProjectSettings({})).toEqual({
      allowed_origins: ['*'],
      store_ip: false,
      user_agent: true,
      geoip: true,
      bot_filtering: true,
    });
    expect(readProjectSettings({ store_ip: true, allowed_origins: [] })).toMatchObject({ store_ip: true, allowed_origins: [] });
  });

  it('reads a field that does not parse as its default rather than failing the project', () => {
    expect(readProjectSettings({ store_ip: 'yes', geoip: false })).toMatchObject({ store_ip: false, geoip: false });
    expect(readProjectSettings(null).allowed_origins).toEqual(['*']);
  });

  it('validates updates: known fields, right types, origins without a path, at least one field', () => {
    expect(ProjectSettingsUpdate.parse({ allowed_origins: ['HTTPS://Shop.example.com/'] })).toEqual({
      allowed_origins: ['https://shop.example.com'],
    });
    expect(ProjectSettingsUpdate.safeParse({}).success).toBe(false);
    expect(ProjectSettingsUpdate.safeParse({ store_ip: 'true' }).success).toBe(false);
    expect(ProjectSettingsUpdate.safeParse({ allowed_origins: ['https://a.example/path'] }).success).toBe(false);
    expect(ProjectSettingsUpdate.safeParse({ allowed_origins: ['shop.example.com'] }).success).toBe(false);
    expect(ProjectSettingsUpdate.safeParse({ other: true }).success).toBe(false);
  });

  it('refuses origins PostgreSQL cannot store, saying why', () => {
    for (const [origin, why] of [
      ['https://a\u0000b.example', 'NUL'],
      ['https://\ud800x.example', 'unpaired UTF-16 surrogates'],
    ] as const) {
      const result = ProjectSettingsUpdate.safeParse({ allowed_origins: [origin] });
      expect(result.success, origin).toBe(false);
      expect(result.error?.issues[0]?.message, origin).toContain(why);
    }
  });

  it('allows an origin listed (case-insensitively) or any with "*"', () => {
    const settings = { allowed_origins: ['https://shop.example.com'] };
    expect(isOriginAllowed(settings, 'https://shop.example.com')).toBe(true);
    expect(isOriginAllowed(settings, 'https://SHOP.example.com')).toBe(true);
    expect(isOriginAllowed(settings, 'https://evil.example.com')).toBe(false);
    expect(isOriginAllowed({ allowed_origins: ['*'] }, 'null')).toBe(true);
    expect(isOriginAllowed({ allowed_origins: [] }, 'https://shop.example.com')).toBe(false);
  });
});
