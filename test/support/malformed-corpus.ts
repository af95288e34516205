import { gzipSync } from 'node:zlib';

/**
 * A corpus of malformed and hostile requests for the ingest API (POST /v1/events and
 * POST /v1/batch), used by test/malformed-input.int.test.ts. Every case says which statuses are
 * acceptable and, for refusals, which error code. None may ever be a 5xx.
 */
export interface MalformedCase {
  name: string;
  path: '/v1/events' | '/v1/batch';
  body: string | Uint8Array;
  /**
   * Overrides of the default headers (`content-type: application/json` and
   * `authorization: Bearer <write key>`); `null` removes a default header. The placeholders
   * {@link WRITE_KEY} and {@link READ_KEY} are replaced by real keys at send time.
   */
  headers?: Record<string, string | null>;
  /** Allowed statuses. */
  expect: number[];
  /** Expected `error.code` when the answer is a 4xx. */
  code?: string;
  /** For 202 answers from /v1/batch: how many events are accepted, and the indexes rejected. */
  accepted?: number;
  rejected?: number[];
  /**
   * How to send it: `fetch` (default); `http` with node:http, for what fetch cannot send (no
   * Content-Type with a body, raw latin1 header bytes); `http-chunked`, node:http with the body
   * in chunks and no Content-Length.
   */
  transport?: 'fetch' | 'http' | 'http-chunked';
}

export const WRITE_KEY = '{{WRITE_KEY}}';
export const READ_KEY = '{{READ_KEY}}';

const EVENTS = '/v1/events';
const BATCH = '/v1/batch';
const MiB = 1024 * 1024;

/** A valid event; in batch cases it sits at index 0, before the invalid one. */
const VALID = '{"event":"valid","distinct_id":"u"}';
/** An event with extra raw JSON fields appended. */
const ev = (fragment: string): string => `{"event":"malformed","distinct_id":"u",${fragment}}`;
/** An event with one more field, serialized by JSON.stringify (which escapes NUL and lone surrogates). */
const evWith = (field: string, value: unknown): string => ev(`${JSON.stringify(field)}:${JSON.stringify(value)}`);

const cases: MalformedCase[] = [];

/** An event that must be refused: 400 INVALID_EVENT alone, a per-event rejection in a batch. */
function invalidEvent(name: string, eventJson: string): void {
  cases.push({ name: `${name} [events]`, path: EVENTS, body: eventJson, expect: [400], code: 'INVALID_EVENT' });
  cases.push({
    name: `${name} [batch]`,
    path: BATCH,
    body: `{"events":[${VALID},${eventJson}]}`,
    expect: [202],
    accepted: 1,
    rejected: [1],
  });
}

/** Odd but valid input: accepted both alone and in a batch. */
function validEvent(name: string, eventJson: string): void {
  cases.push({ name: `${name} [events]`, path: EVENTS, body: eventJson, expect: [202] });
  cases.push({ name: `${name} [batch]`, path: BATCH, body: `{"events":[${eventJson}]}`, expect: [202], accepted: 1, rejected: [] });
}

/** A body that is not JSON at all: 400 MALFORMED_JSON on both routes. */
function brokenJson(name: string, body: string | Uint8Array, paths: ('events' | 'batch')[] = ['events', 'batch']): void {
  for (const p of paths)
    cases.push({ name: `${name} [${p}]`, path: p === 'events' ? EVENTS : BATCH, body, expect: [400], code: 'MALFORMED_JSON' });
}

/** Valid JSON that is not the expected shape: INVALID_EVENT alone, INVALID_REQUEST as a batch. */
function wrongShape(name: string, body: string, options: { anyCode?: boolean } = {}): void {
  cases.push({ name: `${name} [events]`, path: EVENTS, body, expect: [400], ...(options.anyCode ? {} : { code: 'INVALID_EVENT' }) });
  cases.push({ name: `${name} [batch]`, path: BATCH, body, expect: [400], ...(options.anyCode ? {} : { code: 'INVALID_REQUEST' }) });
}

const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];
/** Concatenates text (UTF-8 encoded) and raw bytes. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) out.push(...(typeof part === 'string' ? utf8(part) : part));
  return Uint8Array.from(out);
}

/** Invalid UTF-8 in a value and in a key, on both routes: always 400 MALFORMED_JSON. */
function badUtf8(name: string, bad: number[]): void {
  cases.push({
    name: `invalid UTF-8 ${name} in event name [events]`,
    path: EVENTS,
    body: bytes('{"event":"a', bad, 'b","distinct_id":"u"}'),
    expect: [400],
    code: 'MALFORMED_JSON',
  });
  cases.push({
    name: `invalid UTF-8 ${name} in property key [events]`,
    path: EVENTS,
    body: bytes('{"event":"a","distinct_id":"u","properties":{"k', bad, '":1}}'),
    expect: [400],
    code: 'MALFORMED_JSON',
  });
  cases.push({
    name: `invalid UTF-8 ${name} in property value [batch]`,
    path: BATCH,
    body: bytes(`{"events":[${VALID},{"event":"a","distinct_id":"u","properties":{"k":"`, bad, '"}}]}'),
    expect: [400],
    code: 'MALFORMED_JSON',
  });
  cases.push({
    name: `invalid UTF-8 ${name} in envelope key [batch]`,
    path: BATCH,
    body: bytes('{"ev', bad, `ents":[${VALID}]}`),
    expect: [400],
    code: 'MALFORMED_JSON',
  });
}

const arrays = (n: number, leaf = '1'): string => '['.repeat(n) + leaf + ']'.repeat(n);
const objects = (n: number, leaf = '1'): string => '{"a":'.repeat(n) + leaf + '}'.repeat(n);

// ---------------------------------------------------------------- broken JSON
brokenJson('truncated object', '{"event":"a","distinct_id":');
brokenJson('truncated inside a string', '{"event":"a');
brokenJson('truncated after an opening brace', '{');
brokenJson('trailing comma in object', '{"event":"a","distinct_id":"u",}');
brokenJson('trailing comma in events array', `{"events":[${VALID},]}`, ['batch']);
brokenJson('single-quoted strings', "{'event':'a','distinct_id':'u'}");
brokenJson('unquoted keys', '{event:"a",distinct_id:"u"}');
brokenJson('line comment', `// a comment\n${VALID}`);
brokenJson('block comment', '{/* c */"event":"a","distinct_id":"u"}');
brokenJson('NaN literal', ev('"properties":{"n":NaN}'));
brokenJson('Infinity literal', ev('"properties":{"n":Infinity}'));
brokenJson('-Infinity literal', ev('"properties":{"n":-Infinity}'));
brokenJson('undefined literal', ev('"properties":{"n":undefined}'));
brokenJson('hex number', ev('"properties":{"n":0x10}'));
brokenJson('leading zero number', ev('"properties":{"n":01}'));
brokenJson('leading plus number', ev('"properties":{"n":+1}'));
brokenJson('leading dot number', ev('"properties":{"n":.5}'));
brokenJson('extra closing brace', `${VALID}}`);
brokenJson('unbalanced brackets', `{"events":[${VALID}}`);
brokenJson('missing closing bracket', `[[${VALID}]`);
brokenJson('two JSON texts', `${VALID} ${VALID}`);
brokenJson('trailing semicolon', `${VALID};`);
brokenJson('empty body', '');
brokenJson('whitespace only', ' \n\t\r ');
brokenJson('invalid escape \\x41', '{"event":"\\x41","distinct_id":"u"}');
brokenJson('short unicode escape', '{"event":"\\u12","distinct_id":"u"}');
brokenJson('raw NUL byte inside a string', bytes('{"event":"a', [0x00], 'b","distinct_id":"u"}'));
brokenJson('raw NUL byte between tokens', bytes('{"event":"a",', [0x00], '"distinct_id":"u"}'), ['events']);
brokenJson('raw control characters inside a string', bytes('{"event":"a', [0x01, 0x1f, 0x0a], '","distinct_id":"u"}'));
brokenJson('raw tab inside a string', '{"event":"a\tb","distinct_id":"u"}', ['events']);
wrongShape('body null', 'null');
wrongShape('body true', 'true');
wrongShape('body false', 'false');
wrongShape('body number', '42');
wrongShape('body huge number', '1e400');
wrongShape('body string', '"page_view"');
wrongShape('body empty array', '[]');
wrongShape('body array of garbage', '[1,"x",null,true,{},[],{"event":"a"}]');
cases.push({
  name: 'array of valid events sent to /v1/events',
  path: EVENTS,
  body: `[${VALID},${VALID}]`,
  expect: [400],
  code: 'INVALID_EVENT',
});

// ------------------------------------------------------------- wrong field types
for (const [label, value] of [
  ['number', 1],
  ['null', null],
  ['array', ['a']],
  ['object', { a: 1 }],
  ['boolean', true],
  ['empty string', ''],
] as const) {
  invalidEvent(`event as ${label}`, JSON.stringify({ event: value, distinct_id: 'u' }));
}
for (const [label, value] of [
  ['number', 123],
  ['null', null],
  ['object', {}],
  ['empty string', ''],
] as const) {
  invalidEvent(`distinct_id as ${label}`, JSON.stringify({ event: 'e', distinct_id: value }));
}
invalidEvent('missing event and distinct_id', '{}');
invalidEvent('event_id as number', evWith('event_id', 42));
invalidEvent('event_id as array', evWith('event_id', ['id']));
invalidEvent('event_id of 129 characters', evWith('event_id', 'i'.repeat(129)));
invalidEvent('timestamp as boolean', evWith('timestamp', true));
invalidEvent('timestamp as object', evWith('timestamp', { iso: '2024-01-01T00:00:00Z' }));
invalidEvent('timestamp as null', evWith('timestamp', null));
invalidEvent('session_id as number', evWith('session_id', 7));
invalidEvent('session_id as empty string', evWith('session_id', ''));
invalidEvent('properties as string', evWith('properties', '{"a":1}'));
invalidEvent('properties as array', evWith('properties', [1, 2]));
invalidEvent('properties as number', evWith('properties', 1));
invalidEvent('properties as null', evWith('properties', null));
invalidEvent('context as string', evWith('context', '10.0.0.1'));
invalidEvent('context as array', evWith('context', []));
invalidEvent('context as null', evWith('context', null));
invalidEvent('context.ip invalid beside an unknown field', evWith('context', { ip: '10.0.0.256', locale: 'de' }));
validEvent('context with keys EAP does not read', evWith('context', { ip: '10.0.0.1', locale: 'de', app: { name: 'shop' } }));
invalidEvent('context nested 11 levels', ev(`"context":{"a":${arrays(9, '[]')}}`));
invalidEvent('context over 32 KiB', evWith('context', { page: { title: 'x'.repeat(33 * 1024) } }));
invalidEvent('context.ip as number', evWith('context', { ip: 167772161 }));
invalidEvent('context.ip as array', evWith('context', { ip: ['10.0.0.1'] }));
invalidEvent('context.user_agent as number', evWith('context', { user_agent: 5 }));
invalidEvent('context.user_agent of 1001 characters', evWith('context', { user_agent: 'a'.repeat(1001) }));
invalidEvent('context.library as string', evWith('context', { library: 'eap-js' }));
invalidEvent('context.library without name', evWith('context', { library: { version: '1' } }));
invalidEvent('context.library.name as number', evWith('context', { library: { name: 1 } }));
invalidEvent('context.library.version as number', evWith('context', { library: { name: 'x', version: 2 } }));
invalidEvent('context.library with an unknown field', evWith('context', { library: { name: 'x', build: 'y' } }));
invalidEvent('misspelled field distinctId', '{"event":"e","distinctId":"u"}');
for (const [label, value] of [
  ['number', 1700000000000],
  ['object', {}],
  ['empty string', ''],
  ['null', null],
] as const) {
  cases.push({ name: `sent_at as ${label} [events]`, path: EVENTS, body: evWith('sent_at', value), expect: [400], code: 'INVALID_EVENT' });
  cases.push({
    name: `sent_at as ${label} [batch]`,
    path: BATCH,
    body: JSON.stringify({ sent_at: value, events: [JSON.parse(VALID)] }),
    expect: [400],
    code: 'INVALID_REQUEST',
  });
}
for (const [label, value] of [
  ['object', { 0: JSON.parse(VALID) }],
  ['string', 'events'],
  ['null', null],
  ['number', 1],
  ['boolean', true],
] as const) {
  cases.push({
    name: `batch events as ${label}`,
    path: BATCH,
    body: JSON.stringify({ events: value }),
    expect: [400],
    code: 'INVALID_REQUEST',
  });
}
cases.push({ name: 'batch without events', path: BATCH, body: '{}', expect: [400], code: 'INVALID_REQUEST' });
cases.push({
  name: 'batch with an unknown envelope field',
  path: BATCH,
  body: `{"events":[${VALID}],"api_key":"x"}`,
  expect: [400],
  code: 'INVALID_REQUEST',
});
cases.push({ name: 'single event sent to /v1/batch', path: BATCH, body: VALID, expect: [400], code: 'INVALID_REQUEST' });
cases.push({
  name: 'batch envelope sent to /v1/events',
  path: EVENTS,
  body: `{"events":[${VALID}]}`,
  expect: [400],
  code: 'INVALID_EVENT',
});
cases.push({ name: 'batch with 0 events', path: BATCH, body: '{"events":[]}', expect: [400], code: 'INVALID_REQUEST' });
cases.push({
  name: 'batch with 1001 events',
  path: BATCH,
  body: `{"events":[${Array(1001).fill(VALID).join(',')}]}`,
  expect: [400],
  code: 'BATCH_TOO_LARGE',
});
cases.push({
  name: 'batch with 1001 garbage events',
  path: BATCH,
  body: `{"events":[${Array(1001).fill('0').join(',')}]}`,
  expect: [400],
  code: 'BATCH_TOO_LARGE',
});
cases.push({
  name: 'batch with exactly 1000 events',
  path: BATCH,
  body: `{"events":[${Array(1000).fill(VALID).join(',')}]}`,
  expect: [202],
  accepted: 1000,
  rejected: [],
});
cases.push({
  name: 'batch of garbage events only',
  path: BATCH,
  body: '{"events":[1,"x",null,true,[],{}]}',
  expect: [202],
  accepted: 0,
  rejected: [0, 1, 2, 3, 4, 5],
});
cases.push({
  name: 'batch mixing valid and invalid events',
  path: BATCH,
  body: `{"events":[${VALID},{"event":""},${VALID},{"event":"a","distinct_id":"u","extra":1},"str"]}`,
  expect: [202],
  accepted: 2,
  rejected: [1, 3, 4],
});

// ------------------------------------------------------------------ invalid UTF-8
badUtf8('overlong 2-byte "/" (C0 AF)', [0xc0, 0xaf]);
badUtf8('overlong 3-byte (E0 80 AF)', [0xe0, 0x80, 0xaf]);
badUtf8('overlong 4-byte (F0 80 80 AF)', [0xf0, 0x80, 0x80, 0xaf]);
badUtf8('overlong NUL (C0 80)', [0xc0, 0x80]);
badUtf8('lone continuation byte (80)', [0x80]);
badUtf8('lone continuation byte (BF)', [0xbf]);
badUtf8('truncated 2-byte sequence (C3)', [0xc3]);
badUtf8('truncated 3-byte sequence (E2 82)', [0xe2, 0x82]);
badUtf8('truncated 4-byte sequence (F0 9F 98)', [0xf0, 0x9f, 0x98]);
badUtf8('0xFF byte', [0xff]);
badUtf8('0xFE 0xFF bytes', [0xfe, 0xff]);
badUtf8('UTF-8-encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]);
badUtf8('code point above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]);
badUtf8('5-byte sequence (F8 88 80 80 80)', [0xf8, 0x88, 0x80, 0x80, 0x80]);
brokenJson('invalid UTF-8 truncated at the very end of the body', bytes(VALID, [0xe2, 0x82]));
brokenJson('latin1-encoded body', Uint8Array.from(Buffer.from('{"event":"caf\u00e9","distinct_id":"u"}', 'latin1')));
brokenJson('UTF-16LE body with BOM', Uint8Array.from([0xff, 0xfe, ...Buffer.from(VALID, 'utf16le')]));
brokenJson('two UTF-8 BOMs', bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], VALID));
// RFC 8259 §8.1 lets a parser ignore a leading BOM; the API's TextDecoder strips it.
cases.push({ name: 'UTF-8 BOM before a valid event [events]', path: EVENTS, body: bytes([0xef, 0xbb, 0xbf], VALID), expect: [202] });
cases.push({
  name: 'UTF-8 BOM before a valid batch [batch]',
  path: BATCH,
  body: bytes([0xef, 0xbb, 0xbf], `{"events":[${VALID}]}`),
  expect: [202],
  accepted: 1,
  rejected: [],
});
validEvent('BOM character inside a string value', evWith('properties', { s: '\ufeffx' }));

// ------------------------------------------------------- prototype-pollution keys
invalidEvent('__proto__ at top level', ev('"__proto__":{"polluted":"yes"}'));
invalidEvent('__proto__ at top level holding the required fields', '{"__proto__":{"event":"e","distinct_id":"u"}}');
invalidEvent('constructor at top level', ev('"constructor":{"prototype":{"polluted":"yes"}}'));
invalidEvent('prototype at top level', ev('"prototype":{"polluted":"yes"}'));
invalidEvent('__proto__ in properties', ev('"properties":{"__proto__":{"polluted":"yes"}}'));
invalidEvent('__proto__ as null in properties', ev('"properties":{"__proto__":null}'));
invalidEvent('__proto__ nested in properties', ev('"properties":{"a":{"b":{"__proto__":{"polluted":"yes"}}}}'));
invalidEvent('__proto__ inside an array in properties', ev('"properties":{"list":[{"ok":1},{"__proto__":{"polluted":"yes"}}]}'));
invalidEvent('__proto__ in context', ev('"context":{"__proto__":{"ip":"10.0.0.1"}}'));
invalidEvent('__proto__ in context.library', ev('"context":{"library":{"name":"x","__proto__":{"polluted":"yes"}}}'));
cases.push({
  name: '__proto__ in the batch envelope',
  path: BATCH,
  body: `{"events":[${VALID}],"__proto__":{"polluted":"yes"}}`,
  expect: [400],
  code: 'INVALID_REQUEST',
});
cases.push({
  name: '__proto__ in the batch envelope carrying events',
  path: BATCH,
  body: `{"__proto__":{"events":[${VALID}]}}`,
  expect: [400],
  code: 'INVALID_REQUEST',
});
// "constructor" and "prototype" are ordinary keys in free-form properties.
validEvent(
  'constructor and prototype keys in properties',
  ev('"properties":{"constructor":{"prototype":{"polluted":"yes"}},"prototype":1}'),
);
validEvent('toJSON and hasOwnProperty keys in properties', ev('"properties":{"toJSON":"x","hasOwnProperty":1,"valueOf":{}}'));

// ---------------------------------------------------------------- deep nesting
// Depth counts the properties object itself as level 1; the limit is 10.
validEvent('properties nested 10 object levels', ev(`"properties":${objects(9, '{}')}`));
invalidEvent('properties nested 11 object levels', ev(`"properties":${objects(10, '{}')}`));
validEvent('properties nested 10 levels with arrays', ev(`"properties":{"a":${arrays(8, '[]')}}`));
invalidEvent('properties nested 11 levels with arrays', ev(`"properties":{"a":${arrays(9, '[]')}}`));
invalidEvent('properties nested 1000 object levels', ev(`"properties":${objects(1000)}`));
invalidEvent('properties nested 1000 array levels', ev(`"properties":{"a":${arrays(1000)}}`));
invalidEvent('properties nested 100000 object levels', ev(`"properties":${objects(100_000)}`));
invalidEvent('properties nested 100000 array levels', ev(`"properties":{"a":${arrays(100_000)}}`));
cases.push({
  name: 'properties nested 500000 array levels (just under 1 MiB) [events]',
  path: EVENTS,
  body: ev(`"properties":{"a":${arrays(500_000)}}`),
  expect: [400],
});
invalidEvent('event name nested 100000 array levels', `{"event":${arrays(100_000, '"e"')},"distinct_id":"u"}`);
invalidEvent('context nested 100000 object levels', ev(`"context":${objects(100_000)}`));
wrongShape('top level nested 10 array levels', arrays(10));
wrongShape('top level nested 11 array levels', arrays(11));
wrongShape('top level nested 10 object levels', objects(10));
wrongShape('top level nested 11 object levels', objects(11));
// JSON.parse may refuse very deep input with a RangeError (MALFORMED_JSON) or parse it
// (then the shape is wrong): either way a 400.
wrongShape('top level nested 1000 array levels', arrays(1000), { anyCode: true });
wrongShape('top level nested 1000 object levels', objects(1000), { anyCode: true });
wrongShape('top level nested 100000 array levels', arrays(100_000), { anyCode: true });
wrongShape('top level nested 100000 object levels', objects(100_000), { anyCode: true });
cases.push({
  name: 'batch event nested 100000 array levels',
  path: BATCH,
  body: `{"events":[${VALID},${arrays(100_000)}]}`,
  expect: [202],
  accepted: 1,
  rejected: [1],
});
cases.push({
  name: 'batch events nested 100000 array levels',
  path: BATCH,
  body: `{"events":${arrays(100_000)}}`,
  expect: [202],
  accepted: 0,
  rejected: [0],
});
brokenJson('100000 unclosed brackets', '['.repeat(100_000));
brokenJson('100000 unclosed objects in properties', ev(`"properties":${'{"a":'.repeat(100_000)}`), ['events']);

// ----------------------------------------------------------------- huge numbers
invalidEvent('property 1e400', ev('"properties":{"n":1e400}'));
invalidEvent('property -1e400', ev('"properties":{"n":-1e400}'));
invalidEvent('property 1e400 nested in an array', ev('"properties":{"a":[1,[2,1e400]]}'));
invalidEvent('property with 400 digits', ev(`"properties":{"n":${'9'.repeat(400)}}`));
// 1e-400 underflows to 0 and a 20-digit integer loses precision: valid JSON numbers, accepted.
validEvent('property 1e-400', ev('"properties":{"n":1e-400}'));
validEvent('property 20-digit integer', ev('"properties":{"n":12345678901234567890,"m":-98765432109876543210}'));
validEvent('property -0', ev('"properties":{"n":-0}'));
invalidEvent('event name 1e400', '{"event":1e400,"distinct_id":"u"}');
invalidEvent('distinct_id 20-digit integer', '{"event":"e","distinct_id":12345678901234567890}');
invalidEvent('timestamp 1e400', ev('"timestamp":1e400'));

// ----------------------------------------------------------------- huge strings
validEvent('event name of 200 characters', JSON.stringify({ event: 'e'.repeat(200), distinct_id: 'u' }));
invalidEvent('event name of 201 characters', JSON.stringify({ event: 'e'.repeat(201), distinct_id: 'u' }));
invalidEvent('distinct_id of 201 characters', JSON.stringify({ event: 'e', distinct_id: 'd'.repeat(201) }));
invalidEvent('session_id of 201 characters', evWith('session_id', 's'.repeat(201)));
invalidEvent('1 MB string in properties', evWith('properties', { s: 'x'.repeat(1_000_000) }));
cases.push({
  name: '1 MB event name [events]',
  path: EVENTS,
  body: JSON.stringify({ event: 'e'.repeat(1_000_000), distinct_id: 'u' }),
  expect: [400],
  code: 'INVALID_EVENT',
});
cases.push({
  name: '1 MB property key [events]',
  path: EVENTS,
  body: ev(`"properties":{"${'k'.repeat(1_000_000)}":1}`),
  expect: [400],
  code: 'INVALID_EVENT',
});
cases.push({
  name: 'body of exactly 1 MiB (whitespace padded) [events]',
  path: EVENTS,
  body: VALID + ' '.repeat(MiB - VALID.length),
  expect: [202],
});
cases.push({
  name: 'body of 1 MiB + 1 byte [events]',
  path: EVENTS,
  body: VALID + ' '.repeat(MiB - VALID.length + 1),
  expect: [413],
  code: 'PAYLOAD_TOO_LARGE',
});
const twoMb = evWith('properties', { s: 'x'.repeat(2 * MiB) });
cases.push({ name: '2 MB body [events]', path: EVENTS, body: twoMb, expect: [413], code: 'PAYLOAD_TOO_LARGE' });
cases.push({ name: '2 MB body [batch]', path: BATCH, body: `{"events":[${twoMb}]}`, expect: [413], code: 'PAYLOAD_TOO_LARGE' });
cases.push({
  name: '2 MB body chunked without Content-Length [events]',
  path: EVENTS,
  body: twoMb,
  expect: [413],
  code: 'PAYLOAD_TOO_LARGE',
  transport: 'http-chunked',
});

// ------------------------------------------------------------ NUL, surrogates, controls
invalidEvent('\\u0000 in event name', JSON.stringify({ event: 'a\u0000b', distinct_id: 'u' }));
invalidEvent('\\u0000 alone as event name', JSON.stringify({ event: '\u0000', distinct_id: 'u' }));
invalidEvent('\\u0000 in distinct_id', JSON.stringify({ event: 'e', distinct_id: 'u\u0000' }));
invalidEvent('\\u0000 in event_id', evWith('event_id', 'id\u0000'));
invalidEvent('\\u0000 in session_id', evWith('session_id', '\u0000s'));
invalidEvent('\\u0000 in a property key', evWith('properties', { 'k\u0000': 1 }));
invalidEvent('\\u0000 as a whole property key', evWith('properties', { '\u0000': 1 }));
invalidEvent('\\u0000 in a property value', evWith('properties', { k: 'v\u0000' }));
invalidEvent('\\u0000 in a nested property value', evWith('properties', { a: [{ b: '\u0000' }] }));
invalidEvent('\\u0000 in context.user_agent', evWith('context', { user_agent: 'Mozilla\u0000' }));
invalidEvent('\\u0000 in context.library.name', evWith('context', { library: { name: '\u0000' } }));
invalidEvent('lone surrogate \\ud800 in event name', JSON.stringify({ event: 'a\ud800', distinct_id: 'u' }));
invalidEvent('lone surrogate \\udfff in distinct_id', JSON.stringify({ event: 'e', distinct_id: '\udfffu' }));
invalidEvent('lone surrogate \\ud800 in event_id', evWith('event_id', '\ud800'));
invalidEvent('lone surrogate \\udfff in a property key', evWith('properties', { 'k\udfff': 1 }));
invalidEvent('lone surrogate \\ud800 in a property value', evWith('properties', { k: ['\ud800'] }));
invalidEvent('reversed surrogate pair in a property value', evWith('properties', { k: '\udc00\ud800' }));
invalidEvent('lone surrogate in context.user_agent', evWith('context', { user_agent: 'UA\udbff' }));
validEvent(
  'valid surrogate pair (emoji) in names and values',
  JSON.stringify({ event: '\ud83d\ude00', distinct_id: 'u\ud83d\ude00', properties: { '\ud83d\ude00': '\ud83d\ude00' } }),
);
// Escaped control characters other than NUL are storable text: accepted.
validEvent(
  'escaped control characters in event name and properties',
  JSON.stringify({ event: 'a\u0001\u001f\u007f\u2028b', distinct_id: 'u\n', properties: { 'k\t': '\u0008\u000c' } }),
);

// ----------------------------------------------------------------- duplicate keys
invalidEvent('duplicate event key, last one invalid', '{"event":"a","distinct_id":"u","event":1}');
validEvent('duplicate event key, last one valid', '{"event":1,"distinct_id":"u","event":"a"}');
validEvent('duplicate property keys', ev('"properties":{"k":1,"k":2,"k":{"x":3}}'));
invalidEvent('duplicate properties field, last one an array', ev('"properties":{"k":1},"properties":[1]'));
cases.push({
  name: 'duplicate events key in batch, last one an object',
  path: BATCH,
  body: `{"events":[${VALID}],"events":{}}`,
  expect: [400],
  code: 'INVALID_REQUEST',
});

// ---------------------------------------------------------------------- timestamps
const NOW = new Date().toISOString();
for (const [label, ts] of [
  ['not a date', 'yesterday'],
  ['year 0000', '0000-01-01T00:00:00Z'],
  ['year 99999', '99999-01-01T00:00:00Z'],
  ['month 13', '2024-13-01T00:00:00Z'],
  ['day 32', '2024-01-32T00:00:00Z'],
  ['February 30', '2024-02-30T00:00:00Z'],
  ['February 29 in a common year', '2023-02-29T00:00:00Z'],
  ['hour 24', '2024-01-01T24:00:00Z'],
  ['second 60', '2024-01-01T23:59:60Z'],
  ['no time zone', '2024-01-01T00:00:00'],
  ['date only', '2024-01-01'],
  ['epoch milliseconds as a string', '1700000000000'],
  ['space instead of T', '2024-01-01 00:00:00Z'],
  ['offset +25:00', '2024-01-01T00:00:00+25:00'],
  ['before 1970', '1969-12-31T23:59:59Z'],
  ['empty string', ''],
] as const) {
  invalidEvent(`timestamp ${label}`, evWith('timestamp', ts));
}
invalidEvent('timestamp as epoch milliseconds number', evWith('timestamp', 1700000000000));
invalidEvent('timestamp as epoch seconds number', evWith('timestamp', 1700000000));
// Older than MAX_EVENT_AGE_DAYS (730 by default): refused at ingest, never dead-lettered later.
invalidEvent('timestamp in 2001, older than the accepted age', evWith('timestamp', '2001-09-09T01:46:40Z'));
invalidEvent('timestamp February 29 of 2024, older than the accepted age', evWith('timestamp', '2024-02-29T12:00:00+02:00'));
invalidEvent('timestamp with 200 fractional digits', evWith('timestamp', `${NOW.slice(0, 19)}.${'7'.repeat(200)}Z`));
validEvent('timestamp with an offset and 9 fractional digits', evWith('timestamp', `${NOW.slice(0, 19)}.123456789+02:00`));
validEvent('timestamp far in the future (clamped to receive time)', evWith('timestamp', '9999-12-31T23:59:59.999Z'));
// sent_at far in the past makes the corrected time far in the future: clamped, accepted.
cases.push({
  name: 'sent_at far in the past [events]',
  path: EVENTS,
  body: ev(`"timestamp":"${NOW}","sent_at":"1900-01-01T00:00:00Z"`),
  expect: [202],
});
cases.push({
  name: 'sent_at far in the past [batch]',
  path: BATCH,
  body: JSON.stringify({ sent_at: '1900-01-01T00:00:00Z', events: [{ event: 'e', distinct_id: 'u', timestamp: NOW }] }),
  expect: [202],
  accepted: 1,
  rejected: [],
});
// sent_at far in the future makes the corrected time fall before 1970: refused per event.
cases.push({
  name: 'sent_at far in the future with a timestamp [events]',
  path: EVENTS,
  body: ev(`"timestamp":"${NOW}","sent_at":"9999-12-31T23:59:59Z"`),
  expect: [400],
  code: 'INVALID_EVENT',
});
cases.push({
  name: 'sent_at far in the future with timestamps [batch]',
  path: BATCH,
  body: JSON.stringify({
    sent_at: '9999-12-31T23:59:59Z',
    events: [
      { event: 'e', distinct_id: 'u' },
      { event: 'e', distinct_id: 'u', timestamp: NOW },
    ],
  }),
  expect: [202],
  accepted: 1,
  rejected: [1],
});
cases.push({
  name: 'sent_at far in the future without a timestamp [events]',
  path: EVENTS,
  body: ev('"sent_at":"9999-12-31T23:59:59Z"'),
  expect: [202],
});
cases.push({
  name: 'sent_at year 0000 [batch]',
  path: BATCH,
  body: JSON.stringify({ sent_at: '0000-01-01T00:00:00Z', events: [{ event: 'e', distinct_id: 'u', timestamp: '0000-01-01T00:00:00Z' }] }),
  expect: [400],
  code: 'INVALID_REQUEST',
});
cases.push({
  name: 'sent_at with 70,000 fractional digits [events]',
  path: EVENTS,
  body: ev(`"sent_at":"${NOW.slice(0, 19)}.${'1'.repeat(70_000)}Z"`),
  expect: [400],
  code: 'INVALID_EVENT',
});
cases.push({
  name: 'sent_at with 70,000 fractional digits [batch]',
  path: BATCH,
  body: `{"sent_at":"${NOW.slice(0, 19)}.${'1'.repeat(70_000)}Z","events":[${VALID}]}`,
  expect: [400],
  code: 'INVALID_REQUEST',
});
cases.push({
  name: 'sent_at month 13 [events]',
  path: EVENTS,
  body: ev('"sent_at":"2024-13-01T00:00:00Z"'),
  expect: [400],
  code: 'INVALID_EVENT',
});
cases.push({
  name: 'sent_at without time zone [batch]',
  path: BATCH,
  body: `{"sent_at":"2024-01-01T00:00:00","events":[${VALID}]}`,
  expect: [400],
  code: 'INVALID_REQUEST',
});

// --------------------------------------------------------------------- IP strings
for (const ip of [
  'not-an-ip',
  '256.1.1.1',
  '1.2.3',
  '10.0.0.1/24',
  ' 10.0.0.1',
  '10.0.0.1:8080',
  'localhost',
  '::g',
  '1:2:3:4:5:6:7:8:9',
  '0x7f000001',
  '',
  '10.0.0.1\u0000',
]) {
  invalidEvent(`context.ip ${JSON.stringify(ip)}`, evWith('context', { ip }));
}
validEvent('context.ip IPv6 ::1', evWith('context', { ip: '::1' }));

// ---------------------------------------------------------------- content types
const ct = (
  name: string,
  contentType: string | null,
  expectStatus: number,
  code?: string,
  body: string | Uint8Array = VALID,
  transport?: MalformedCase['transport'],
): void => {
  cases.push({
    name: `Content-Type ${name}`,
    path: EVENTS,
    body,
    headers: { 'content-type': contentType },
    expect: [expectStatus],
    ...(code ? { code } : {}),
    ...(transport ? { transport } : {}),
  });
};
ct('missing, with a body', null, 415, 'UNSUPPORTED_MEDIA_TYPE', VALID, 'http');
cases.push({
  name: 'Content-Type missing, no body [events]',
  path: EVENTS,
  body: '',
  headers: { 'content-type': null },
  expect: [400],
  code: 'INVALID_EVENT',
  transport: 'http',
});
cases.push({
  name: 'Content-Type missing, no body [batch]',
  path: BATCH,
  body: '',
  headers: { 'content-type': null },
  expect: [400],
  code: 'INVALID_REQUEST',
  transport: 'http',
});
ct('application/json; charset=latin1 (ASCII body)', 'application/json; charset=latin1', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct(
  'application/json; charset=latin1 (latin1 body)',
  'application/json; charset=latin1',
  415,
  'UNSUPPORTED_MEDIA_TYPE',
  Uint8Array.from(Buffer.from('{"event":"caf\u00e9","distinct_id":"u"}', 'latin1')),
);
ct(
  'application/json; charset=utf-16 (UTF-16LE body)',
  'application/json; charset=utf-16',
  415,
  'UNSUPPORTED_MEDIA_TYPE',
  Uint8Array.from(Buffer.from(VALID, 'utf16le')),
);
ct('application/json; charset=utf-8', 'application/json; charset=utf-8', 202);
ct('application/json; charset="UTF-8" (quoted)', 'application/json; charset="UTF-8"', 202);
ct('APPLICATION/JSON (upper case)', 'APPLICATION/JSON', 202);
ct('text/plain (sendBeacon)', 'text/plain', 202);
ct('text/plain;charset=UTF-8', 'text/plain;charset=UTF-8', 202);
ct(
  'multipart/form-data',
  'multipart/form-data; boundary=XyZ',
  415,
  'UNSUPPORTED_MEDIA_TYPE',
  `--XyZ\r\nContent-Disposition: form-data; name="event"\r\n\r\n${VALID}\r\n--XyZ--\r\n`,
);
ct('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 415, 'UNSUPPORTED_MEDIA_TYPE', 'event=a&distinct_id=u');
ct('application/xml', 'application/xml', 415, 'UNSUPPORTED_MEDIA_TYPE', '<event name="a"/>');
ct('text/html', 'text/html', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct('application/jsonx (prefix of application/json)', 'application/jsonx', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct('application/json-seq', 'application/json-seq', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct('application/vnd.api+json', 'application/vnd.api+json', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct('list "application/json, text/plain"', 'application/json, text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct('*/*', '*/*', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct('without subtype', 'application', 415, 'UNSUPPORTED_MEDIA_TYPE');
ct('empty', '', 415, 'UNSUPPORTED_MEDIA_TYPE', VALID, 'http');
ct('with raw latin1 bytes', 'application/json\u00e9\u00ff', 415, 'UNSUPPORTED_MEDIA_TYPE', VALID, 'http');

// ---------------------------------------------------------------- content encodings
const ce = (
  name: string,
  encoding: string,
  body: string | Uint8Array,
  expectStatus: number,
  code: string,
  path: MalformedCase['path'] = EVENTS,
): void => {
  cases.push({ name: `Content-Encoding ${name}`, path, body, headers: { 'content-encoding': encoding }, expect: [expectStatus], code });
};
const gzValid = gzipSync(`{"events":[${VALID}]}`);
ce('gzip with a non-gzip body', 'gzip', VALID, 400, 'MALFORMED_JSON');
ce('gzip with a truncated gzip body', 'gzip', Uint8Array.from(gzValid.subarray(0, gzValid.length - 12)), 400, 'MALFORMED_JSON', BATCH);
ce('gzip with only the gzip header', 'gzip', Uint8Array.from(gzValid.subarray(0, 10)), 400, 'MALFORMED_JSON', BATCH);
ce(
  'gzip with a corrupted CRC',
  'gzip',
  Uint8Array.from([...gzValid.subarray(0, gzValid.length - 8), 0, 0, 0, 0, ...gzValid.subarray(gzValid.length - 4)]),
  400,
  'MALFORMED_JSON',
  BATCH,
);
ce('gzip with an empty body', 'gzip', '', 400, 'MALFORMED_JSON');
ce('gzip of broken JSON', 'gzip', Uint8Array.from(gzipSync('{"event":')), 400, 'MALFORMED_JSON');
ce(
  'gzip of invalid UTF-8',
  'gzip',
  Uint8Array.from(gzipSync(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))),
  400,
  'MALFORMED_JSON',
);
ce('deflate with a gzip body', 'deflate', Uint8Array.from(gzValid), 400, 'MALFORMED_JSON', BATCH);
ce('gzip decompressing to 4 MiB', 'gzip', Uint8Array.from(gzipSync(Buffer.alloc(4 * MiB, 0x20))), 413, 'PAYLOAD_TOO_LARGE');
ce('br', 'br', VALID, 415, 'UNSUPPORTED_MEDIA_TYPE');
ce('"gzip, deflate" (stacked)', 'gzip, deflate', Uint8Array.from(gzValid), 415, 'UNSUPPORTED_MEDIA_TYPE', BATCH);
cases.push({
  name: 'Content-Encoding GZIP (upper case) with a valid body',
  path: BATCH,
  body: Uint8Array.from(gzValid),
  headers: { 'content-encoding': 'GZIP' },
  expect: [202],
  accepted: 1,
  rejected: [],
});

// -------------------------------------------------------------------- auth headers
const auth = (
  name: string,
  headers: Record<string, string | null>,
  expectStatus: number,
  code?: string,
  transport?: MalformedCase['transport'],
  body = VALID,
): void => {
  cases.push({
    name: `auth: ${name}`,
    path: EVENTS,
    body,
    headers,
    expect: [expectStatus],
    ...(code ? { code } : {}),
    ...(transport ? { transport } : {}),
  });
};
auth('Authorization with a 10 KB key', { authorization: `Bearer eap_w_${'k'.repeat(10 * 1024)}` }, 401, 'UNAUTHORIZED');
auth('X-Api-Key with a 10 KB key', { authorization: null, 'x-api-key': 'k'.repeat(10 * 1024) }, 401, 'UNAUTHORIZED');
auth('"Bearer" with no key', { authorization: 'Bearer' }, 401, 'UNAUTHORIZED');
auth('"Bearer " with only spaces', { authorization: 'Bearer    ' }, 401, 'UNAUTHORIZED');
auth('lowercase "bearer" scheme', { authorization: `bearer ${WRITE_KEY}` }, 202);
auth('uppercase "BEARER" scheme', { authorization: `BEARER ${WRITE_KEY}` }, 202);
auth('Basic scheme with the write key', { authorization: `Basic ${WRITE_KEY}` }, 401, 'UNAUTHORIZED');
auth('Bearer with two tokens', { authorization: `Bearer ${WRITE_KEY} extra` }, 401, 'UNAUTHORIZED');
auth('Token scheme', { authorization: `Token ${WRITE_KEY}` }, 401, 'UNAUTHORIZED');
auth('no credentials', { authorization: null }, 401, 'UNAUTHORIZED');
auth('no credentials and a broken body', { authorization: null }, 401, 'UNAUTHORIZED', undefined, '{"event":');
auth('X-Api-Key of spaces only', { authorization: null, 'x-api-key': '   ' }, 401, 'UNAUTHORIZED');
auth('raw latin1 bytes in the key', { authorization: `Bearer ${WRITE_KEY}\u00ff\u00e9` }, 401, 'UNAUTHORIZED', 'http');
auth('raw latin1 bytes in X-Api-Key', { authorization: null, 'x-api-key': '\u00ff\u00fe\u0080' }, 401, 'UNAUTHORIZED', 'http');
auth('read key', { authorization: `Bearer ${READ_KEY}` }, 403, 'FORBIDDEN');
auth('wrong Bearer with a valid X-Api-Key', { authorization: 'Bearer eap_w_wrong', 'x-api-key': WRITE_KEY }, 401, 'UNAUTHORIZED');
auth('hostile X-Request-Id', { 'x-request-id': `../../etc/passwd\u00ff${'x'.repeat(500)}` }, 202, undefined, 'http');

export const MALFORMED_CORPUS: readonly MalformedCase[] = cases;
