import { timingSafeEqual } from 'node:crypto';
import type { ActiveKey, KeyKind } from '@eap/db';
import { hashApiKey, isWellFormedApiKey } from '@eap/db';
import { EapError, type ProjectSettings } from '@eap/core';

export interface KeyAuthenticatorOptions {
  /** Looks a key up by its SHA-256 hash in the database. */
  lookup: (keyHash: Buffer) => Promise<ActiveKey | null>;
  /** How long a found key is trusted (a revoked key keeps working at most this long). */
  ttlMs: number;
  /** How long an unknown key is remembered as unknown. */
  negativeTtlMs: number;
  /** Most unknown keys remembered; oldest are forgotten first (bounds memory under key guessing). */
  maxNegativeEntries?: number;
  onLookup?: (result: 'hit' | 'negative_hit' | 'miss' | 'stale' | 'malformed') => void;
  now?: () => number;
}

export interface AuthenticatedKey {
  projectId: string;
  kind: KeyKind;
  /** Hex of the key hash: a stable id for the key that is safe to use as a map key. */
  keyId: string;
  /**
   * The project's collection settings, cached with the key: a change reaches a running API when
   * its cache entry expires, within the key cache TTL (KEY_CACHE_TTL_MS, 30 s by default).
   */
  settings: ProjectSettings;
}

interface CacheEntry {
  key: AuthenticatedKey | null;
  expiresAt: number;
}

/**
 * Authenticates API keys against the database with an in-process cache, so the ingest hot path
 * makes no database round trip. Concurrent misses for one key share one query. When the database
 * cannot be reached, a key that was valid before keeps working (it cannot have been revoked in a
 * database nobody can write to); unknown keys then get 503, never a wrong 401.
 */
export function createKeyAuthenticator(options: KeyAuthenticatorOptions) {
  const now = options.now ?? Date.now;
  const maxNegative = options.maxNegativeEntries ?? 10_000;
  const positive = new Map<string, CacheEntry>();
  const negative = new Map<string, number>();
  const inFlight = new Map<string, Promise<AuthenticatedKey | null>>();

  async function fetchKey(hash: Buffer, keyId: string): Promise<AuthenticatedKey | null> {
    const found = await options.lookup(hash);
    // The lookup is by hash; compare the stored hash again in constant time so equality is never
    // decided by a short-circuiting comparison.
    if (!found || found.keyHash.length !== hash.length || !timingSafeEqual(found.keyHash, hash)) return null;
    return { projectId: found.projectId, kind: found.kind, keyId, settings: found.settings };
  }

  function remember(keyId: string, key: AuthenticatedKey | null): void {
    if (key) {
      positive.set(keyId, { key, expiresAt: now() + options.ttlMs });
      negative.delete(keyId);
      return;
    }
    positive.delete(keyId);
    negative.delete(keyId);
    negative.set(keyId, now() + options.negativeTtlMs);
    while (negative.size > maxNegative) {
      const oldest = negative.keys().next().value;
      if (oldest === undefined) break;
      negative.delete(oldest);
    }
  }

  // Raw key → key id, so the hot path does not hash every request. Bounded like the negative
  // cache; holding a key in memory is no worse than the request that carried it.
  const keyIds = new Map<string, { hash: Buffer; keyId: string }>();
  function identify(rawKey: string): { hash: Buffer; keyId: string } {
    let id = keyIds.get(rawKey);
    if (!id) {
      const hash = hashApiKey(rawKey);
      id = { hash, keyId: hash.toString('hex') };
      keyIds.set(rawKey, id);
      if (keyIds.size > maxNegative) keyIds.delete(keyIds.keys().next().value as string);
    }
    return id;
  }

  /**
   * What the cache already knows of a key, without waiting: the key, null when it is malformed or
   * known to be unknown, or undefined when only a lookup can tell (then call `authenticate`).
   */
  function known(rawKey: string): AuthenticatedKey | null | undefined {
    // Not the shape of a key: no lookup and no cache entry, so garbage costs neither a query nor memory.
    if (!isWellFormedApiKey(rawKey)) {
      options.onLookup?.('malformed');
      return null;
    }
    const { keyId } = identify(rawKey);
    const t = now();
    const cached = positive.get(keyId);
    if (cached && cached.expiresAt > t) {
      options.onLookup?.('hit');
      return cached.key;
    }
    const negativeUntil = negative.get(keyId);
    if (negativeUntil !== undefined && negativeUntil > t) {
      options.onLookup?.('negative_hit');
      return null;
    }
    return undefined;
  }

  /** The key's project and kind, or null when the key is malformed, unknown or revoked. */
  async function authenticate(rawKey: string): Promise<AuthenticatedKey | null> {
    const answer = known(rawKey);
    if (answer !== undefined) return answer;
    const { hash, keyId } = identify(rawKey);
    let pending = inFlight.get(keyId);
    if (!pending) {
      pending = fetchKey(hash, keyId).finally(() => inFlight.delete(keyId));
      inFlight.set(keyId, pending);
    }
    try {
      const key = await pending;
      remember(keyId, key);
      options.onLookup?.('miss');
      return key;
    } catch (error) {
      // A key whose cache entry expired keeps working while the database cannot be reached.
      const stale = positive.get(keyId);
      if (stale) {
        options.onLookup?.('stale');
        return stale.key;
      }
      throw new EapError('DATABASE_UNAVAILABLE', 'cannot verify the API key right now; retry later', {
        retryAfterSeconds: 2,
        cause: error,
      });
    }
  }

  return { known, authenticate };
}
export type KeyAuthenticator = ReturnType<typeof createKeyAuthenticator>;
