import { createHash, randomBytes } from 'node:crypto';

export type KeyKind = 'write' | 'read';

const PREFIX: Record<KeyKind, string> = { write: 'eap_w_', read: 'eap_r_' };

/** A new random API key: a kind prefix and 32 random bytes in base64url. */
export function generateApiKey(kind: KeyKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** What {@link generateApiKey} makes: a kind prefix and 43 base64url characters (32 bytes). */
const API_KEY_FORMAT = /^eap_[wr]_[A-Za-z0-9_-]{43}$/;

/**
 * Whether `key` has the shape of a key {@link generateApiKey} makes. Anything else cannot be a
 * key, so it is refused without a database lookup or a cache entry.
 */
export function isWellFormedApiKey(key: string): boolean {
  return API_KEY_FORMAT.test(key);
}

/** SHA-256 of a key: keys are stored and looked up only by this hash. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The displayable start of a key (kind prefix plus 6 characters). */
export function keyPrefix(key: string): string {
  return key.slice(0, 12);
}
