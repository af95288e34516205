import { describe, expect, it } from 'vitest';
import { readProjectSettings } from '@eap/core';
import { generateApiKey, hashApiKey, type ActiveKey } from '@eap/db';
import { createKeyAuthenticator } from './key-authenticator.ts';

function setup(options: { ttlMs?: number; negativeTtlMs?: number } = {}) {
  let t = 0;
  const table = new Map<string, ActiveKey>();
  let lookups = 0;
  let down = false;
  const auth = createKeyAuthenticator({
    lookup: async (hash) => {
      lookups++;
      if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return table.get(hash.toString('hex')) ?? null;
    },
    ttlMs: options.ttlMs ?? 1000,
    negativeTtlMs: options.negativeTtlMs ?? 100,
    now: () => t,
  });
  const add = (key: string, stored: unknown = {}) =>
    table.set(hashApiKey(key).toString('hex'), {
      projectId: 'p1',
      kind: 'write',
      keyHash: hashApiKey(key),
      settings: readProjectSettings(stored),
    });
  return {
    auth,
    add,
    revoke: (key: string) => table.delete(hashApiKey(key).toString('hex')),
    tick: (ms: number) => (t += ms),
    lookups: () => lookups,
    setDown: (v: boolean) => (down = v),
  };
}

// Keys in the format generateApiKey makes: anything else is refused before the lookup.
const k1 = generateApiKey('write');
const nope = generateApiKey('write');
const other = generateApiKey('read');

describe('createKeyAuthenticator', () => {
  it('caches known keys for the TTL, so a revoked key works at most that long', async () => {
    const s = setup();
    s.add(k1);
    expect((await s.auth.authenticate(k1))?.projectId).toBe('p1');
    s.revoke(k1);
    s.tick(999);
    expect(await s.auth.authenticate(k1)).not.toBeNull();
    expect(s.lookups()).toBe(1);
    s.tick(2);
    expect(await s.auth.authenticate(k1)).toBeNull();
  });

  it('answers from the cache without waiting once it knows a key, and only then', async () => {
    const s = setup();
    s.add(k1);
    expect(s.auth.known(k1)).toBeUndefined();
    expect(s.auth.known('not a key')).toBeNull();
    await s.auth.authenticate(k1);
    expect(s.auth.known(k1)?.projectId).toBe('p1');
    expect(s.auth.known(nope)).toBeUndefined();
    expect(await s.auth.authenticate(nope)).toBeNull();
    expect(s.auth.known(nope)).toBeNull();
    s.tick(1001);
    expect(s.auth.known(k1)).toBeUndefined();
    expect(s.lookups()).toBe(2);
  });

  it("carries the project's settings, and a settings change reaches it when the entry expires", async () => {
    const s = setup();
    s.add(k1, { store_ip: true });
    expect((await s.auth.authenticate(k1))?.settings).toMatchObject({ store_ip: true, geoip: true, allowed_origins: ['*'] });
    s.add(k1, { store_ip: false });
    s.tick(999);
    expect((await s.auth.authenticate(k1))?.settings.store_ip).toBe(true);
    s.tick(2);
    expect((await s.auth.authenticate(k1))?.settings.store_ip).toBe(false);
  });

  it('remembers unknown keys briefly and shares one lookup between concurrent misses', async () => {
    const s = setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => s.auth.authenticate(nope)));
    expect(results.every((r) => r === null)).toBe(true);
    expect(s.lookups()).toBe(1);
    s.add(nope);
    expect(await s.auth.authenticate(nope)).toBeNull();
    s.tick(101);
    expect(await s.auth.authenticate(nope)).not.toBeNull();
  });

  it('refuses strings not shaped like a key without a lookup and without remembering them', async () => {
    const s = setup();
    for (const key of ['k1', `${k1}x`, k1.slice(0, -1), `eap_q_${k1.slice(6)}`, `${k1.slice(0, -1)}=`]) {
      expect(await s.auth.authenticate(key), key).toBeNull();
    }
    expect(s.lookups()).toBe(0);
    s.add(k1);
    expect((await s.auth.authenticate(k1))?.projectId).toBe('p1');
    expect(s.lookups()).toBe(1);
  });

  it('keeps a previously valid key working while the database is down, and answers 503 for unknown ones', async () => {
    const s = setup();
    s.add(k1);
    await s.auth.authenticate(k1);
    s.tick(5000);
    s.setDown(true);
    expect((await s.auth.authenticate(k1))?.projectId).toBe('p1');
    await expect(s.auth.authenticate(other)).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503 });
  });
});
