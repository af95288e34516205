// Decoder of the MaxMind DB data section (spec v2.0, "Data Section Format"): each value starts
// with a control byte holding its type (3 bits, 0 = extended: the next byte + 7) and its size (5
// bits, 29/30/31 = 1/2/3 more bytes); pointers (type 1) name an offset from the section's start.
// The decoder reads through a ByteSource, so the section can stay in the file and only the bytes
// of the record asked for are read.

/** Bytes by position: in a file (read on demand) or in a buffer. Numbers are big-endian. */
export interface ByteSource {
  /** The byte at `offset`. */
  byte(offset: number): number;
  /** An unsigned integer of `length` (1 to 6) bytes. */
  uint(offset: number, length: number): number;
  int32(offset: number): number;
  float(offset: number): number;
  double(offset: number): number;
  utf8(offset: number, length: number): string;
  /** A copy of `length` bytes. */
  copy(offset: number, length: number): Buffer;
}

const POINTER = 1;
const UTF8_STRING = 2;
const DOUBLE = 3;
const BYTES = 4;
const UINT16 = 5;
const UINT32 = 6;
const MAP = 7;
const INT32 = 8;
const UINT64 = 9;
const UINT128 = 10;
const ARRAY = 11;
const BOOLEAN = 14;
const FLOAT = 15;

/** Maps and arrays nested deeper than this mean a corrupt file (a pointer loop), not data. */
const MAX_DEPTH = 64;

export class MmdbFormatError extends Error {
  override name = 'MmdbFormatError';
}

/**
 * Decodes values of a data section whose pointers count from `pointerBase` (an offset of the
 * source). Values come out as mmdb readers give them: maps as objects, uint64/uint128 as bigint,
 * bytes as a Buffer (a copy), float as the nearest double.
 */
export function createDataDecoder(source: ByteSource, pointerBase: number) {
  let pos = 0;

  function size(ctrl: number): number {
    const small = ctrl & 0x1f;
    if (small < 29) return small;
    if (small === 29) return 29 + source.byte(pos++);
    const n = small === 30 ? 2 : 3;
    const value = source.uint(pos, n);
    pos += n;
    return (small === 30 ? 285 : 65_821) + value;
  }

  function pointerTarget(ctrl: number): number {
    const sizeBits = (ctrl >> 3) & 0x3;
    const high = ctrl & 0x7;
    if (sizeBits === 0) return (high << 8) | source.byte(pos++);
    const n = sizeBits + 1;
    const value = source.uint(pos, n);
    pos += n;
    if (sizeBits === 1) return high * 0x10000 + value + 2048;
    if (sizeBits === 2) return high * 0x1000000 + value + 526_336;
    return value;
  }

  function bigUnsigned(n: number): bigint {
    let value = 0n;
    if (n === 0) return value;
    const b = source.copy(pos, n);
    for (let i = 0; i < n; i++) value = (value << 8n) | BigInt(b[i]!);
    return value;
  }

  function next(depth: number): unknown {
    const ctrl = source.byte(pos++);
    let type = ctrl >> 5;
    if (type === POINTER) {
      const target = pointerTarget(ctrl);
      const after = pos;
      pos = pointerBase + target;
      if (source.byte(pos) >> 5 === POINTER) throw new MmdbFormatError(`a pointer at ${after} points to a pointer`);
      const value = next(depth);
      pos = after;
      return value;
    }
    if (type === 0) {
      type = 7 + source.byte(pos++);
      if (type < 8) throw new MmdbFormatError(`extended type ${type} at ${pos - 1}`);
    }
    const n = size(ctrl);
    switch (type) {
      case UTF8_STRING: {
        const text = n === 0 ? '' : source.utf8(pos, n);
        pos += n;
        return text;
      }
      case MAP: {
        if (depth >= MAX_DEPTH) throw new MmdbFormatError('maps and arrays nested too deep');
        const map: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = next(depth + 1);
          if (typeof key !== 'string') throw new MmdbFormatError(`a map key at ${pos} is not a string`);
          const value = next(depth + 1);
          if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
          else map[key] = value;
        }
        return map;
      }
      case ARRAY: {
        if (depth >= MAX_DEPTH) throw new MmdbFormatError('maps and arrays nested too deep');
        const array = new Array<unknown>(n);
        for (let i = 0; i < n; i++) array[i] = next(depth + 1);
        return array;
      }
      case DOUBLE: {
        if (n !== 8) throw new MmdbFormatError(`a double of ${n} bytes`);
        const value = source.double(pos);
        pos += 8;
        return value;
      }
      case FLOAT: {
        if (n !== 4) throw new MmdbFormatError(`a float of ${n} bytes`);
        const value = source.float(pos);
        pos += 4;
        return value;
      }
      case UINT16:
      case UINT32:
      case INT32: {
        if (n > (type === UINT16 ? 2 : 4)) throw new MmdbFormatError(`an integer of type ${type} with ${n} bytes`);
        // Signed only at full width: shorter int32s are not sign-extended (libmaxminddb does the same).
        const value = n === 0 ? 0 : type === INT32 && n === 4 ? source.int32(pos) : source.uint(pos, n);
        pos += n;
        return value;
      }
      case UINT64:
      case UINT128: {
        if (n > (type === UINT64 ? 8 : 16)) throw new MmdbFormatError(`an integer of type ${type} with ${n} bytes`);
        const value = bigUnsigned(n);
        pos += n;
        return value;
      }
      case BOOLEAN:
        if (n > 1) throw new MmdbFormatError(`a boolean of value ${n}`);
        return n === 1;
      case BYTES: {
        const value = source.copy(pos, n);
        pos += n;
        return value;
      }
      default:
        throw new MmdbFormatError(`unknown data type ${type} at ${pos}`);
    }
  }

  /** The value that starts at `offset` of the source. */
  function decodeAt(offset: number): unknown {
    pos = offset;
    return next(0);
  }

  return { decodeAt };
}
