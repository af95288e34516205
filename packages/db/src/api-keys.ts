import { createHash, randomBytes } from 'node:crypto';

export type KeyKind = 'write' | 'read';

const PREFIX: Record<KeyKind, string> = { write: 'eap_w_', read: 'eap_r_' };

/** A new random API key: a kind prefix and 32 random bytes in base64url. */
export function generateApiKey(kind: KeyKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** SHA-256 of a key: keys are stored and looked up only by this hash. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The displayable start of a key (kind prefix plus 6 characters). */
export function keyPrefix(key: string): string {
  return key.slice(0, 12);
}
