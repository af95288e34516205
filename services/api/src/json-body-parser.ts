import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { EapError } from '@eap/core';

/**
 * Registers the only body parser of the public API: JSON (as `application/json`, or `text/plain`
 * as browsers send with `navigator.sendBeacon`), optionally gzip- or deflate-compressed. The size
 * limit applies to the decompressed body, and decompression stops as soon as the limit is
 * crossed, so a small compressed "bomb" costs at most `limitBytes` of memory. Invalid UTF-8 and
 * malformed JSON are 400s with a clear message; nothing here can become a 5xx.
 */
export function registerJsonBodyParser(app: FastifyInstance, limitBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], (request, payload, done) => {
    readBody(request.raw, payload, limitBytes).then(
      (buffer) => {
        try {
          done(null, parseJson(buffer));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
      (error: unknown) => done(error as Error, undefined),
    );
  });
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

/** Reads the request body, decompressing it when needed, and stops at `limitBytes`. */
function readBody(raw: IncomingMessage, payload: NodeJS.ReadableStream, limitBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const encoding = String(raw.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    let decoder: Gunzip | Inflate | null;
    try {
      checkCharset(raw.headers['content-type']);
      decoder = decoderFor(encoding);
    } catch (error) {
      reject(error);
      return;
    }
    const declared = Number(raw.headers['content-length']);
    if (Number.isFinite(declared) && declared > limitBytes) {
      reject(tooLarge(limitBytes));
      return;
    }
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
    const output: NodeJS.ReadableStream = decoder ?? payload;
    output.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) return fail(tooLarge(limitBytes));
      chunks.push(chunk);
    });
    output.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, size));
    });
    output.on('error', (error: Error) => {
      fail(
        decoder && output === decoder
          ? new EapError('MALFORMED_JSON', `request body is not valid ${encoding} data: ${error.message}`)
          : new EapError('INVALID_REQUEST', `could not read the request body: ${error.message}`),
      );
    });
    if (decoder) {
      payload.on('data', (chunk: Buffer) => {
        rawSize += chunk.length;
        if (rawSize > limitBytes) return fail(tooLarge(limitBytes));
        if (!settled) decoder.write(chunk);
      });
      payload.on('end', () => {
        if (!settled) decoder.end();
      });
      payload.on('error', (error: Error) => fail(new EapError('INVALID_REQUEST', `could not read the request body: ${error.message}`)));
    }
  });
}

function parseJson(buffer: Buffer): unknown {
  if (buffer.length === 0) throw new EapError('MALFORMED_JSON', 'request body is empty; send a JSON object');
  if (!isUtf8(buffer)) throw new EapError('MALFORMED_JSON', 'request body is not valid UTF-8');
  // A UTF-8 byte order mark is allowed (RFC 8259 lets parsers ignore it); JSON.parse would not.
  const text = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? buffer.toString('utf8', 3) : buffer.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EapError('MALFORMED_JSON', `request body is not valid JSON: ${(error as Error).message}`);
  }
}
