import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EapError } from '@eap/core';
import { registerJsonBodyParser } from './json-body-parser.ts';

const LIMIT = 64 * 1024;
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  registerJsonBodyParser(app, LIMIT);
  app.setErrorHandler((error: Error, _request, reply) => {
    const status = error instanceof EapError ? error.status : 500;
    return reply.code(status).send({ code: error instanceof EapError ? error.code : 'OTHER', message: error.message });
  });
  app.post('/echo', async (request) => ({ body: request.body }));
  await app.ready();
});
afterAll(() => app.close());

const body = { batch: [{ event: 'é', n: 1 }] };
const json = JSON.stringify(body);
const post = (payload: string | Buffer, contentType = 'text/plain', url = '/echo', headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType, ...headers } });

describe('the body parser', () => {
  it('reads plain JSON, gzip named by Content-Encoding, by ?compression=gzip-js, and by its magic bytes alone', async () => {
    const gz = gzipSync(json);
    for (const response of [
      await post(json, 'application/json'),
      await post(gz, 'application/json', '/echo', { 'content-encoding': 'gzip' }),
      await post(gz, 'text/plain', '/echo?compression=gzip-js'),
      await post(gz, 'text/plain'),
      await post(gz, 'application/json'),
    ]) {
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ body });
    }
  });

  it('reads base64 (standard and URL-safe) named by ?compression=base64 or recognised, and posthog-js form beacons', async () => {
    const b64 = Buffer.from(json).toString('base64');
    for (const response of [
      await post(b64, 'text/plain', '/echo?compression=base64'),
      await post(Buffer.from(json).toString('base64url'), 'text/plain', '/echo?compression=base64'),
      await post(b64, 'text/plain'),
      await post(`data=${encodeURIComponent(b64)}`, 'application/x-www-form-urlencoded', '/echo?compression=base64'),
      await post(`data=${b64}`, 'application/x-www-form-urlencoded'),
      await post(`data=${encodeURIComponent(json)}`, 'application/x-www-form-urlencoded'),
      await post(gzipSync(`data=${encodeURIComponent(b64)}&compression=base64`), 'application/x-www-form-urlencoded'),
    ]) {
      expect(response.json()).toEqual({ body });
    }
  });

  it('refuses malformed encodings with 4xx codes', async () => {
    const cases: [Awaited<ReturnType<typeof post>>, number, string][] = [
      [await post('***', 'text/plain', '/echo?compression=base64'), 400, 'MALFORMED_JSON'],
      [await post(Buffer.from([0xff, 0xfe]).toString('base64'), 'text/plain', '/echo?compression=base64'), 400, 'MALFORMED_JSON'],
      [await post('YWJj', 'text/plain'), 400, 'MALFORMED_JSON'],
      [await post(gzipSync(json).subarray(0, 20), 'text/plain'), 400, 'MALFORMED_JSON'],
      [await post(Buffer.from([0x1f, 0x8b, 0, 0]), 'text/plain'), 400, 'MALFORMED_JSON'],
      [await post(Buffer.from([0x1f]), 'text/plain'), 400, 'MALFORMED_JSON'],
      [await post(gzipSync(Buffer.alloc(LIMIT * 64, 0x20)), 'text/plain'), 413, 'PAYLOAD_TOO_LARGE'],
      [await post('x', 'text/plain', '/echo?compression=lz64'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post('event=a', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post('data=', 'application/x-www-form-urlencoded'), 400, 'MALFORMED_JSON'],
      [await post('data=%7B%22a%22', 'application/x-www-form-urlencoded'), 400, 'MALFORMED_JSON'],
    ];
    for (const [response, status, code] of cases) {
      expect([response.statusCode, response.json().code]).toEqual([status, code]);
    }
  });
});
