import { randomFillSync } from 'node:crypto';

/** The two ASCII hex digits of each byte value, at [2 * byte] and [2 * byte + 1]. */
const HEX_DIGITS = Buffer.from(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''), 'latin1');
// Random bytes are drawn in blocks: one getrandom() call per 256 ids instead of one per id.
const POOL = Buffer.alloc(10 * 256);
let poolOffset = POOL.length;
/** The id is written here, then read out as one string: no intermediate strings per id. */
const TEXT = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

function putHex(at: number, byte: number): void {
  TEXT[at] = HEX_DIGITS[2 * byte]!;
  TEXT[at + 1] = HEX_DIGITS[2 * byte + 1]!;
}

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds followed by random bits, so ids sort by creation
 * time and keep B-tree inserts local.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  const ms = Math.max(0, Math.floor(now));
  const hi = Math.floor(ms / 0x1000000); // top 24 bits of the 48-bit timestamp
  const lo = ms % 0x1000000;
  putHex(0, (hi >>> 16) & 0xff);
  putHex(2, (hi >>> 8) & 0xff);
  putHex(4, hi & 0xff);
  putHex(6, (lo >>> 16) & 0xff);
  putHex(9, (lo >>> 8) & 0xff);
  putHex(11, lo & 0xff);
  putHex(14, 0x70 | (POOL[r]! & 0x0f)); // version 7
  putHex(16, POOL[r + 1]!);
  putHex(19, 0x80 | (POOL[r + 2]! & 0x3f)); // variant 10
  putHex(21, POOL[r + 3]!);
  for (let i = 4; i < 10; i++) putHex(24 + 2 * (i - 4), POOL[r + i]!);
  return TEXT.toString('latin1');
}
