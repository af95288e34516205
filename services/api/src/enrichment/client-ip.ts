import { BlockList, isIP, isIPv4 } from 'node:net';

// The client address itself comes from fastify's `trustProxy` (app.ts), which walks
// X-Forwarded-For from the right and stops at the first address that is not a trusted proxy, so a
// client can never choose its own address by sending the header.

/** Names proxy-addr (fastify's trustProxy) accepts besides addresses and CIDR ranges. */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Why an entry of TRUSTED_PROXIES is not an IP address, a CIDR range or a proxy-addr name; undefined when it is. */
export function trustedProxyProblem(entry: string): string | undefined {
  if (PROXY_NAMES.has(entry)) return undefined;
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR range`;
  if (bits === undefined) return undefined;
  const n = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || n > (family === 4 ? 32 : 128)) return `"${entry}" has an invalid prefix length`;
  return undefined;
}

/**
 * An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, how a dual-stack socket names an IPv4 client,
 * or the same written in hexadecimal, `::ffff:102:304`, or with its zeros written out,
 * `0:0:0:0:0:ffff:1.2.3.4`, in any case) as its IPv4 address (`1.2.3.4`); any other address as
 * given.
 */
export function unmapIpv4(ip: string): string {
  if (ip.charCodeAt(0) === 58 /* : */ && ip.slice(0, 7).toLowerCase() === '::ffff:') return mappedIpv4(ip.slice(7)) ?? ip;
  // Written out: an IPv6 address holding ffff, in the form a URL gives it (zeros compressed).
  if (!ip.includes(':') || !/ffff/i.test(ip) || isIP(ip) !== 6) return ip;
  const canonical = canonicalIpv6(ip);
  return canonical?.startsWith('::ffff:') ? (mappedIpv4(canonical.slice(7)) ?? ip) : ip;
}

/** The IPv4 address of what follows `::ffff:` in a mapped address (`1.2.3.4` or `102:304`), if it is one. */
function mappedIpv4(rest: string): string | undefined {
  if (isIPv4(rest)) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
  if (!hex) return undefined;
  const high = Number.parseInt(hex[1]!, 16);
  const low = Number.parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** An IPv6 address as the URL standard writes it (lower case, the longest run of zeros as `::`); undefined for one a URL cannot hold (a zone). */
function canonicalIpv6(ip: string): string | undefined {
  try {
    return new URL(`http://[${ip}]`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

// Addresses no GeoIP database places: private, loopback, link-local, shared (CGNAT), unspecified,
// documentation and multicast ranges.
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** True for an address a GeoIP database can place (not private, loopback, link-local, ...); an IPv4-mapped one as its IPv4 address. */
export function isPublicAddress(ip: string): boolean {
  const address = unmapIpv4(ip);
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
