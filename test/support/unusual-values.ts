/**
 * Pools of values at the edges of what the ingest contract allows, and a seeded generator that
 * draws from them: the tests of valid events of unusual values (EAP's own endpoints and the SDK
 * endpoints) build their events from these.
 */

export const ADDRESSES = [
  '8.8.8.8',
  '0.0.0.0',
  '255.255.255.255',
  '10.1.2.3',
  '127.0.0.1',
  '::',
  '::1',
  '2001:db8::1',
  '2A00:1450:4001:80B::200E',
  '2a00:1450:4001:80b:0:0:0:200e',
  'fe80::1',
  'ff02::1',
  '64:ff9b::808:808',
  '::ffff:8.8.8.8',
  '::FFFF:8.8.8.8',
  '::ffff:808:808',
  '::ffff:7f00:1',
  '::FFFF:C0A8:101',
  '1:2:3:4:5:6:7:8',
];
export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
  'x',
  'Mözilla/5.0 (Ünïcode; 😀)',
  `Mozilla/5.0 ${'(a; b) '.repeat(141)}`.slice(0, 1000),
];
/** User agents a header can carry (fetch sends ISO-8859-1 at most). */
export const HEADER_USER_AGENTS = USER_AGENTS.filter((ua) => /^[\x20-\x7e]*$/.test(ua));
export const TEXTS = [
  'a',
  '0',
  ' padded ',
  '__proto__',
  'constructor',
  'toString',
  'Ωμέγα',
  'שלום',
  '日本語のイベント',
  '😀'.repeat(100),
  'tab\there',
  'line\nbreak',
  '"quoted" \\ back',
  '\u00a0\u2028\u2029',
  'z'.repeat(200),
];
export const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  123456789.12345679,
];

/** An object nested exactly `levels` deep (the limit is 10, the object itself is level 1). */
export function deepest(levels: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) inner = { [`l${i}`]: inner };
  return inner;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws from the pools, seeded: the same seed draws the same values. */
export function unusualValues(seed: number) {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(values: readonly T[]): T => values[int(values.length)] as T;
  const maybe = (p: number) => next() < p;

  /** An ISO time near now (within the last six hours or an hour ahead) in one of several spellings. */
  function time(): string {
    const at = Date.now() - Math.floor(next() * 6 * 3_600_000) + (maybe(0.1) ? 3_600_000 : 0);
    const iso = new Date(at).toISOString();
    switch (int(5)) {
      case 0:
        return iso;
      case 1:
        return `${iso.slice(0, 19)}Z`;
      case 2:
        return `${iso.slice(0, 23)}456789Z`;
      case 3: {
        // The same instant at +05:30.
        const local = new Date(at + 5.5 * 3_600_000).toISOString();
        return `${local.slice(0, 23)}+05:30`;
      }
      default: {
        const local = new Date(at - 12 * 3_600_000).toISOString();
        return `${local.slice(0, 19)}-12:00`;
      }
    }
  }

  /** A JSON value of at most `depth` levels of objects and arrays. */
  function value(depth: number): unknown {
    const kind = int(depth > 1 ? 7 : 5);
    if (kind === 0) return pick(TEXTS);
    if (kind === 1) return pick(NUMBERS);
    if (kind === 2) return pick([true, false, null]);
    if (kind === 3) return '';
    if (kind === 4) return pick(['', 'k', '🔑', '__proto__x', 'constructor', 'a.b', 'a[0]', ' ']);
    if (kind === 5) return Array.from({ length: int(4) }, () => value(depth - 1));
    return object(depth - 1, int(4));
  }

  function object(depth: number, keys: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys; i++) out[pick(['', 'k', '🔑', 'constructor', 'toString', 'a.b', 'a[0]', ' ', `key${i}`, 'Ω'])] = value(depth);
    return out;
  }

  return { int, pick, maybe, time, object };
}
