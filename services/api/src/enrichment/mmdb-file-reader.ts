import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { type ByteSource, createDataDecoder, MmdbFormatError } from './mmdb-data-decoder.ts';

// A MaxMind DB (mmdb, spec v2.0) reader that leaves the file on disk and reads it by position
// (pread): the search tree node by node and a record from its data pointer, through a small LRU
// of 4 KiB pages of the file. The kernel's page cache holds what is read often; the process holds
// 256 KiB of pages per database, so a database of any size costs the heap nothing
// (docs/enrichment.md, benchmarks/memory.md).

const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'); // \xab\xcd\xef MaxMind.com
/** The metadata, marker included, is at most this far from the end of the file. */
const METADATA_MAX_SIZE = 128 * 1024;
const DATA_SECTION_SEPARATOR_SIZE = 16;
/** Pages of the file kept (LRU): 64 × 4 KiB, 256 KiB per open database. */
const PAGE_SIZE = 4096;
const MAX_PAGES = 64;

export interface MmdbMetadata {
  nodeCount: number;
  /** Bits per record of a tree node: 24, 28 or 32. */
  recordSize: 24 | 28 | 32;
  /** 4: IPv4 addresses only; 6: IPv6, and IPv4 in ::/96 (where the database has them). */
  ipVersion: 4 | 6;
  databaseType: string;
  languages: string[];
  description: Record<string, string>;
  buildEpoch: Date;
  binaryFormatMajorVersion: number;
  binaryFormatMinorVersion: number;
}

/** A ByteSource over `length` bytes from `offset` of a buffer: the buffer and the index of `offset`. */
type Locate = (offset: number, length: number) => { buffer: Buffer; at: number };

function sourceOf(locate: Locate): ByteSource {
  return {
    byte(offset) {
      const { buffer, at } = locate(offset, 1);
      return buffer[at]!;
    },
    uint(offset, length) {
      const { buffer, at } = locate(offset, length);
      return buffer.readUIntBE(at, length);
    },
    int32(offset) {
      const { buffer, at } = locate(offset, 4);
      return buffer.readInt32BE(at);
    },
    float(offset) {
      const { buffer, at } = locate(offset, 4);
      return buffer.readFloatBE(at);
    },
    double(offset) {
      const { buffer, at } = locate(offset, 8);
      return buffer.readDoubleBE(at);
    },
    utf8(offset, length) {
      const { buffer, at } = locate(offset, length);
      return buffer.toString('utf8', at, at + length);
    },
    copy(offset, length) {
      const { buffer, at } = locate(offset, length);
      return Buffer.from(buffer.subarray(at, at + length));
    },
  };
}

function bufferSource(buffer: Buffer): ByteSource {
  const found = { buffer, at: 0 };
  return sourceOf((offset, length) => {
    if (offset < 0 || offset + length > buffer.length) throw new MmdbFormatError(`a read past the metadata at ${offset}`);
    found.at = offset;
    return found;
  });
}

function readFully(fd: number, target: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, target, done, length - done, position + done);
    if (n === 0) throw new MmdbFormatError(`the file ends before offset ${position + length}`);
    done += n;
  }
}

/**
 * A file read in aligned pages kept in a small LRU. A lookup walks nodes that sit mostly in a
 * few pages (writers lay the tree out depth first, a node's left child next to it), the pages
 * near the root are read by every lookup, and the data section's shared keys by every record:
 * those stay, so a lookup costs a handful of reads rather than one per bit and pointer.
 */
function pagedFile(fd: number, fileSize: number, pageSize: number, maxPages: number) {
  const pages = new Map<number, Buffer>();
  let lastIndex = -1;
  let last: Buffer = Buffer.alloc(0);
  // One result object, reused: locate() runs several times per lookup and allocates nothing.
  const found = { buffer: last, at: 0 };

  function page(index: number): Buffer {
    if (index === lastIndex) return last;
    let buffer = pages.get(index);
    if (buffer) {
      pages.delete(index);
    } else {
      const oldest = pages.size >= maxPages ? pages.keys().next().value : undefined;
      if (oldest !== undefined) {
        buffer = pages.get(oldest)!;
        pages.delete(oldest);
      } else {
        buffer = Buffer.allocUnsafe(pageSize);
      }
      readFully(fd, buffer, Math.min(pageSize, fileSize - index * pageSize), index * pageSize);
    }
    pages.set(index, buffer);
    lastIndex = index;
    last = buffer;
    return buffer;
  }

  /** The buffer holding `length` bytes from `offset`: a page, or a copy when they span pages. */
  function locate(offset: number, length: number): { buffer: Buffer; at: number } {
    const at = offset % pageSize;
    if (at + length <= pageSize) {
      found.buffer = page((offset - at) / pageSize);
      found.at = at;
      return found;
    }
    const out = Buffer.allocUnsafe(length);
    for (let done = 0; done < length; ) {
      const from = (offset + done) % pageSize;
      const n = Math.min(length - done, pageSize - from);
      page((offset + done - from) / pageSize).copy(out, done, from, from + n);
      done += n;
    }
    found.buffer = out;
    found.at = 0;
    return found;
  }

  return { locate };
}

/** The bytes [start, end) of a paged file as a ByteSource: reads outside them mean a corrupt database. */
function sectionOf(locate: Locate, start: number, end: number): ByteSource {
  return sourceOf((offset, length) => {
    if (offset < start || offset + length > end) throw new MmdbFormatError(`a read outside the data section at ${offset}`);
    return locate(offset, length);
  });
}

function readMetadata(fd: number, fileSize: number): { metadata: MmdbMetadata; dataEnd: number } {
  const tailSize = Math.min(fileSize, METADATA_MAX_SIZE);
  const tail = Buffer.allocUnsafe(tailSize);
  readFully(fd, tail, tailSize, fileSize - tailSize);
  const marker = tail.lastIndexOf(METADATA_MARKER);
  if (marker < 0) throw new MmdbFormatError('no MaxMind DB metadata (not an mmdb file)');
  const start = marker + METADATA_MARKER.length;
  const raw = createDataDecoder(bufferSource(tail), start).decodeAt(start) as Record<string, unknown>;
  const recordSize = raw.record_size;
  const ipVersion = raw.ip_version;
  const nodeCount = raw.node_count;
  if (raw.binary_format_major_version !== 2) throw new MmdbFormatError(`binary format ${String(raw.binary_format_major_version)}, not 2`);
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32) throw new MmdbFormatError(`record size ${String(recordSize)}`);
  if (ipVersion !== 4 && ipVersion !== 6) throw new MmdbFormatError(`IP version ${String(ipVersion)}`);
  if (typeof nodeCount !== 'number' || nodeCount <= 0) throw new MmdbFormatError(`node count ${String(nodeCount)}`);
  return {
    metadata: {
      nodeCount,
      recordSize,
      ipVersion,
      databaseType: String(raw.database_type ?? ''),
      languages: Array.isArray(raw.languages) ? (raw.languages as string[]) : [],
      description: (raw.description ?? {}) as Record<string, string>,
      buildEpoch: new Date(Number(raw.build_epoch ?? 0) * 1000),
      binaryFormatMajorVersion: 2,
      binaryFormatMinorVersion: Number(raw.binary_format_minor_version ?? 0),
    },
    dataEnd: fileSize - tailSize + marker,
  };
}

/** The 4 or 16 bytes of an IPv4 or IPv6 address (zone ignored); undefined when it is neither. */
export function addressBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.'), Number);
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  if (!isIPv6(bare)) return undefined;
  let text = bare;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const [a, b, c, d] = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/**
 * Opens an mmdb file for lookups by position. The file stays open (one descriptor) until
 * `close()`; reads are synchronous (a lookup reads a few pages, from the kernel's page cache once warm).
 * Throws when the file cannot be read or is not an mmdb database.
 */
export function openMmdbFile(path: string) {
  const fd = openSync(path, 'r');
  try {
    return readerOf(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
export type MmdbFile = ReturnType<typeof openMmdbFile>;

function readerOf(fd: number) {
  const { metadata, dataEnd } = readMetadata(fd, fstatSync(fd).size);
  const { nodeCount, recordSize } = metadata;
  const nodeByteSize = recordSize / 4;
  const searchTreeSize = nodeCount * nodeByteSize;
  const dataStart = searchTreeSize + DATA_SECTION_SEPARATOR_SIZE;
  if (dataStart > dataEnd) throw new MmdbFormatError('the search tree is larger than the file');
  const file = pagedFile(fd, dataEnd, PAGE_SIZE, MAX_PAGES);
  const decoder = createDataDecoder(sectionOf(file.locate, dataStart, dataEnd), dataStart);
  let ipv4Start: number | undefined;
  let closed = false;

  /** Record `right ? 1 : 0` of node `n`: the next node, nodeCount (no data) or a data pointer. */
  function record(n: number, right: boolean): number {
    const { buffer: b, at } = file.locate(n * nodeByteSize, nodeByteSize);
    if (recordSize === 24) return b.readUIntBE(right ? at + 3 : at, 3);
    if (recordSize === 28) {
      // The middle byte holds the high nibble of each record: left's in its top half.
      return right ? (b[at + 3]! & 0x0f) * 0x1000000 + b.readUIntBE(at + 4, 3) : (b[at + 3]! & 0xf0) * 0x100000 + b.readUIntBE(at, 3);
    }
    return b.readUInt32BE(right ? at + 4 : at);
  }

  /** Where IPv4 addresses start: the root of an IPv4 tree, the node of ::/96 in an IPv6 one. */
  function ipv4Root(): number {
    if (ipv4Start === undefined) {
      let n = 0;
      if (metadata.ipVersion === 6) for (let i = 0; i < 96 && n < nodeCount; i++) n = record(n, false);
      ipv4Start = n;
    }
    return ipv4Start;
  }

  /**
   * The record of the network holding `ip` (its data decoded), or null when the database has
   * none. Throws for a string that is not an IP address, an IPv6 address in an IPv4 database,
   * and a corrupt file.
   */
  function get(ip: string): unknown {
    if (closed) throw new Error('the mmdb file is closed');
    const bytes = addressBytes(ip);
    if (!bytes) throw new TypeError(`not an IP address: ${ip}`);
    if (bytes.length === 16 && metadata.ipVersion === 4) throw new TypeError(`an IPv4 database cannot place the IPv6 address ${ip}`);
    const bits = bytes.length * 8;
    let n = bytes.length === 4 ? ipv4Root() : 0;
    for (let depth = 0; depth < bits && n < nodeCount; depth++) {
      n = record(n, ((bytes[depth >> 3]! >> (7 - (depth & 7))) & 1) === 1);
    }
    if (n <= nodeCount) return null;
    const offset = n - nodeCount + searchTreeSize;
    if (offset < dataStart || offset >= dataEnd) throw new MmdbFormatError(`a record points outside the data section (${n})`);
    return decoder.decodeAt(offset);
  }

  function close(): void {
    if (closed) return;
    closed = true;
    closeSync(fd);
  }

  return { metadata, get, close };
}
