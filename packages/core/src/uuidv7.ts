import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
// Random bytes are drawn in blocks: one getrandom() call per 256 ids instead of one per id.
const POOL = Buffer.alloc(10 * 256);
let poolOffset = POOL.length;

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds followed by random bits, so ids sort by creation
 * time and keep B-tree inserts local.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const r = POOL.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  const ms = Math.max(0, Math.floor(now));
  const hi = Math.floor(ms / 0x1000000); // top 24 bits of the 48-bit timestamp
  const lo = ms % 0x1000000;
  const b = (i: number): number => r[i] ?? 0;
  return (
    HEX[(hi >>> 16) & 0xff]! +
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[0x70 | (b(0) & 0x0f)]! +
    HEX[b(1)]! +
    '-' +
    HEX[0x80 | (b(2) & 0x3f)]! +
    HEX[b(3)]! +
    '-' +
    HEX[b(4)]! +
    HEX[b(5)]! +
    HEX[b(6)]! +
    HEX[b(7)]! +
    HEX[b(8)]! +
    HEX[b(9)]!
  );
}
