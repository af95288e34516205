import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { EapError } from '@eap/core';

const FORM = 'application/x-www-form-urlencoded';

/**
 * Registers the only body parser of the public API: JSON (as `application/json`, or `text/plain`
 * as browsers send with `navigator.sendBeacon`), optionally compressed, and the encodings SDKs
 * use (docs/sdk-endpoints.md):
 * - gzip or deflate named by `Content-Encoding`, or gzip named by `?compression=gzip-js|gzip`, or
 *   gzip recognised by its magic bytes when nothing names it (posthog-js sends `text/plain` gzip);
 * - base64 of the JSON, named by `?compression=base64` or recognised when the body is not JSON;
 * - `application/x-www-form-urlencoded` with the JSON (or its base64) in a `data` field
 *   (posthog-js beacons). A form without `data` is refused as an unsupported media type.
 * The size limit applies to the decompressed body, and decompression stops as soon as the limit
 * is crossed, so a small compressed "bomb" costs at most `limitBytes` of memory. Invalid UTF-8,
 * broken base64 and malformed JSON are 400s with a clear message; nothing here can become a 5xx.
 */
export function registerJsonBodyParser(app: FastifyInstance, limitBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain', FORM], (request, payload, done) => {
    let hint: CompressionHint;
    try {
      hint = compressionHint(request.raw.url);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    readBody(request.raw, payload, limitBytes, hint === 'gzip').then(
      (buffer) => {
        try {
          const isForm = String(request.headers['content-type'] ?? '')
            .toLowerCase()
            .startsWith(FORM);
          done(null, isForm ? parseForm(buffer) : parseBody(buffer, hint === 'base64'));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
      (error: unknown) => done(error as Error, undefined),
    );
  });
}

type CompressionHint = 'gzip' | 'base64' | undefined;

/** The `compression` query parameter PostHog clients add: `gzip-js`/`gzip`, `base64`, or none. */
function compressionHint(url: string | undefined): CompressionHint {
  const query = url?.indexOf('?') ?? -1;
  if (query < 0) return undefined;
  const value = new URLSearchParams(url!.slice(query + 1)).get('compression')?.trim().toLowerCase();
  switch (value) {
    case undefined:
    case '':
      return undefined;
    case 'gzip':
    case 'gzip-js':
      return 'gzip';
    case 'base64':
      return 'base64';
    default:
      throw new EapError(
        'UNSUPPORTED_MEDIA_TYPE',
        `compression "${value.slice(0, 40)}" is not supported; use gzip-js, gzip, base64 or none`,
      );
  }
}

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/** JSON is UTF-8 (RFC 8259); a body declared in another charset is refused rather than misread. */
function checkCharset(contentType: string | undefined): void {
  const charset = CHARSET.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new EapError('UNSUPPORTED_MEDIA_TYPE', `charset "${charset}" is not supported; send JSON as UTF-8`);
  }
}

function decoderFor(encoding: string): Gunzip | Inflate | null {
  switch (encoding) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    default:
      throw new EapError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${encoding}" is not supported; use gzip, deflate or none`);
  }
}

function tooLarge(limitBytes: number): EapError {
  return new EapError('PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes (after decompression)`, {
    details: { limit_bytes: limitBytes },
  });
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * Reads the request body, decompressing it when needed, and stops at `limitBytes`. With no
 * `Content-Encoding`, a body that starts with the gzip magic bytes is gunzipped (JSON never
 * starts with byte 0x1f); `gzipHint` (from `?compression=gzip-js`) asks for gzip outright.
 */
function readBody(raw: IncomingMessage, payload: NodeJS.ReadableStream, limitBytes: number, gzipHint: boolean): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const encoding = String(raw.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    let decoder: Gunzip | Inflate | null;
    try {
      checkCharset(raw.headers['content-type']);
      decoder = decoderFor(encoding === '' && gzipHint ? 'gzip' : encoding);
    } catch (error) {
      reject(error);
      return;
    }
    const declared = Number(raw.headers['content-length']);
    if (Number.isFinite(declared) && declared > limitBytes) {
      reject(tooLarge(limitBytes));
      return;
    }
    const decoderName = encoding === '' ? 'gzip' : encoding;
    // Nothing names an encoding: look at the first two bytes before deciding.
    let sniffing = decoder === null && encoding === '';
    let head: Buffer | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let rawSize = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      decoder?.destroy();
      // Stop reading; fastify answers and closes or drains the connection.
      payload.removeAllListeners('data');
      reject(error);
    };
    const take = (chunk: Buffer): void => {
      if (settled) return;
      size += chunk.length;
      if (size > limitBytes) fail(tooLarge(limitBytes));
      else chunks.push(chunk);
    };
    const finish = (): void => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, size));
    };
    const useDecoder = (d: Gunzip | Inflate): void => {
      d.on('data', take);
      d.on('end', finish);
      d.on('error', (error: Error) =>
        fail(new EapError('MALFORMED_JSON', `request body is not valid ${decoderName} data: ${error.message}`)),
      );
    };
    if (decoder) useDecoder(decoder);
    const forward = (chunk: Buffer): void => {
      if (decoder) decoder.write(chunk);
      else take(chunk);
    };
    payload.on('data', (chunk: Buffer) => {
      if (settled) return;
      rawSize += chunk.length;
      if (rawSize > limitBytes) return fail(tooLarge(limitBytes));
      if (!sniffing) return forward(chunk);
      head = head ? Buffer.concat([head, chunk]) : chunk;
      if (head.length < 2) return;
      sniffing = false;
      if (head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1) {
        decoder = createGunzip();
        useDecoder(decoder);
      }
      forward(head);
    });
    payload.on('end', () => {
      if (settled) return;
      if (sniffing && head) take(head);
      if (decoder) decoder.end();
      else finish();
    });
    payload.on('error', (error: Error) => fail(new EapError('INVALID_REQUEST', `could not read the request body: ${error.message}`)));
  });
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Decodes standard or URL-safe base64 text; throws a 400 when it is not base64. */
export function decodeBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact) || compact.length % 4 === 1) {
    throw new EapError('MALFORMED_JSON', 'request body is not valid base64');
  }
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

/** A JSON body, or (with `base64`, or when it is no JSON but base64 of JSON) its base64. */
function parseBody(buffer: Buffer, base64: boolean): unknown {
  if (base64) return parseJson(decodeBase64(textOf(buffer)), 'base64-decoded ');
  try {
    return parseJson(buffer);
  } catch (error) {
    // Base64 of JSON (a PostHog convention) is tried only when the body is not JSON itself.
    const first = buffer.subarray(0, 1).toString('latin1');
    if (first !== '' && /[A-Za-z0-9+/_-]/.test(first) && isUtf8(buffer)) {
      try {
        const decoded = decodeBase64(buffer.toString('utf8'));
        if (decoded[0] === 0x7b || decoded[0] === 0x5b) return parseJson(decoded, 'base64-decoded ');
      } catch {
        // Not base64 either: the JSON error says more.
      }
    }
    throw error;
  }
}

/**
 * `application/x-www-form-urlencoded` as posthog-js beacons send it: `data=<base64 or JSON>`, and
 * optionally `compression=base64`. Other forms are not event bodies.
 */
function parseForm(buffer: Buffer): unknown {
  const form = new URLSearchParams(textOf(buffer));
  const data = form.get('data');
  if (data === null) {
    throw new EapError('UNSUPPORTED_MEDIA_TYPE', 'a form body must carry the JSON (or its base64) in a "data" field; send JSON otherwise');
  }
  return decodeDataField(data, form.get('compression') === 'base64');
}

/**
 * The `data` field of a form or query string: JSON, or the base64 of JSON. Form decoding turns
 * a "+" of unescaped base64 into a space, so spaces are read back as "+".
 */
export function decodeDataField(data: string, base64: boolean): unknown {
  const trimmed = data.trim();
  if (!base64 && (trimmed.startsWith('{') || trimmed.startsWith('['))) return parseJson(Buffer.from(trimmed, 'utf8'));
  return parseJson(decodeBase64(trimmed.replaceAll(' ', '+')), 'base64-decoded ');
}

function textOf(buffer: Buffer): string {
  if (!isUtf8(buffer)) throw new EapError('MALFORMED_JSON', 'request body is not valid UTF-8');
  return buffer.toString('utf8');
}

function parseJson(buffer: Buffer, what = ''): unknown {
  if (buffer.length === 0) throw new EapError('MALFORMED_JSON', `${what}request body is empty; send a JSON object`);
  if (!isUtf8(buffer)) throw new EapError('MALFORMED_JSON', `${what}request body is not valid UTF-8`);
  // A UTF-8 byte order mark is allowed (RFC 8259 lets parsers ignore it); JSON.parse would not.
  const text = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? buffer.toString('utf8', 3) : buffer.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EapError('MALFORMED_JSON', `${what}request body is not valid JSON: ${(error as Error).message}`);
  }
}
