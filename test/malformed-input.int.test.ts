import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamEvents, streamKeys } from '@eap/core';
import { createTestDatabase, type TestDatabase } from './support/test-database.ts';
import { useSharedRedis } from './support/test-redis.ts';
import { createTestProject, startTestApi, type TestApi, waitFor } from './support/test-api.ts';
import { startTestWorker } from './support/test-worker.ts';
import { MALFORMED_CORPUS, READ_KEY, WRITE_KEY, type MalformedCase } from './support/malformed-corpus.ts';

/**
 * Sends every case of the malformed-input corpus to the real API (real Redis and PostgreSQL) and
 * proves that client input never yields a 5xx, never crashes the process, always gets the
 * documented JSON shape, and that exactly the accepted events reach the streams.
 */

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof useSharedRedis>>;
let api: TestApi;
let project: Awaited<ReturnType<typeof createTestProject>>;
/** Sum of `accepted` over every 202 answer of this file. */
let acceptedTotal = 0;

/** Either documented answer body; which fields exist is what the assertions check. */
interface AnswerJson {
  accepted?: number;
  rejected?: { index: number; event_id?: string; errors: { path: string; message: string }[]; retriable: boolean }[];
  error?: { code: string; message: string; details?: unknown };
}

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  redis = await useSharedRedis();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
  project = await createTestProject(db.pool, 'malformed');
  await redis.client.flushdb();
});

afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await db?.drop();
});

function headersFor(c: MalformedCase): Record<string, string> {
  const merged: Record<string, string | null> = {
    'content-type': 'application/json',
    authorization: `Bearer ${WRITE_KEY}`,
    ...c.headers,
  };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged)) {
    if (value === null) continue;
    out[name] = value.replaceAll(WRITE_KEY, project.write_key).replaceAll(READ_KEY, project.read_key);
  }
  return out;
}

/** node:http, for what fetch cannot send: no Content-Type with a body, raw latin1 header bytes, chunked bodies. */
function nodeRequest(url: string, headers: Record<string, string>, body: string | Uint8Array, chunked: boolean): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    let responded = false;
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    // The server may answer (413) and close before the whole body is written: only errors
    // before an answer count.
    req.on('error', (error) => {
      if (!responded) reject(error);
    });
    const data = Buffer.from(body);
    if (chunked) {
      for (let i = 0; i < data.length; i += 64 * 1024) req.write(data.subarray(i, i + 64 * 1024));
      req.end();
    } else if (data.length > 0) {
      req.end(data);
    } else {
      req.end();
    }
  });
}

async function send(c: MalformedCase): Promise<RawResponse> {
  const headers = headersFor(c);
  const url = api.baseUrl + c.path;
  if (c.transport === 'http' || c.transport === 'http-chunked') return nodeRequest(url, headers, c.body, c.transport === 'http-chunked');
  const res = await fetch(url, { method: 'POST', headers, body: c.body as NonNullable<Parameters<typeof fetch>[1]>['body'] });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** Asserts the documented shape: `{"error":{"code","message","details"?}}` or `{"accepted","rejected"}`. */
function checkAnswer(c: MalformedCase, res: RawResponse, parsed: AnswerJson | undefined): void {
  const context = `status ${res.status}, body ${res.text.slice(0, 400)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(c.expect, context).toContain(res.status);
  expect(res.contentType, context).toMatch(/^application\/json/);
  expect(parsed, context).toBeTypeOf('object');
  expect(parsed, context).not.toBeNull();
  const json = parsed as Required<AnswerJson>;
  if (res.status === 202) {
    expect(Object.keys(json).sort(), context).toEqual(['accepted', 'rejected']);
    expect(Number.isInteger(json.accepted), context).toBe(true);
    expect(Array.isArray(json.rejected), context).toBe(true);
    for (const r of json.rejected) {
      expect(Number.isInteger(r.index), context).toBe(true);
      expect(r.retriable, context).toBe(false);
      expect(Array.isArray(r.errors) && r.errors.length > 0, context).toBe(true);
      for (const e of r.errors) {
        expect(typeof e.path, context).toBe('string');
        expect(typeof e.message === 'string' && e.message.length > 0, context).toBe(true);
      }
    }
    if (c.path === '/v1/events') {
      expect(json, context).toEqual({ accepted: 1, rejected: [] });
    } else {
      expect(json.accepted, context).toBe(c.accepted);
      expect(
        json.rejected.map((r: { index: number }) => r.index),
        context,
      ).toEqual(c.rejected);
    }
    return;
  }
  expect(Object.keys(json), context).toEqual(['error']);
  const keys = Object.keys(json.error);
  expect(
    keys.every((k) => ['code', 'message', 'details'].includes(k)),
    context,
  ).toBe(true);
  expect(json.error.code, context).toMatch(/^[A-Z_]+$/);
  expect(typeof json.error.message === 'string' && json.error.message.length > 0, context).toBe(true);
  if (c.code !== undefined) expect(json.error.code, context).toBe(c.code);
}

describe('malformed-input corpus', () => {
  it('has at least 120 uniquely named, fully specified cases', () => {
    expect(MALFORMED_CORPUS.length).toBeGreaterThanOrEqual(120);
    const names = MALFORMED_CORPUS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of MALFORMED_CORPUS) {
      expect(c.expect.length, c.name).toBeGreaterThan(0);
      expect(
        c.expect.every((s) => s < 500),
        c.name,
      ).toBe(true);
      if (c.path === '/v1/batch' && c.expect.includes(202)) {
        expect(c.accepted, c.name).toBeTypeOf('number');
        expect(c.rejected, c.name).toBeDefined();
      }
    }
  });

  for (const c of MALFORMED_CORPUS) {
    it(`${c.path} ${c.name}`, async () => {
      const res = await send(c);
      let json: AnswerJson | undefined;
      try {
        json = JSON.parse(res.text);
      } catch {
        json = undefined;
      }
      if (res.status === 202 && typeof json?.accepted === 'number') acceptedTotal += json.accepted;
      checkAnswer(c, res, json);
    });
  }
});

describe('after the corpus', () => {
  it('survives clients that hang up in the middle of a body, plain or gzip', async () => {
    for (const extra of [{}, { 'content-encoding': 'gzip' }]) {
      await new Promise<void>((resolve) => {
        const req = request(`${api.baseUrl}/v1/batch`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${project.write_key}`,
            'content-length': '100000',
            ...extra,
          },
        });
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        req.write('{"events":[{"event":"cut', () => setTimeout(() => req.destroy(), 50));
      });
    }
    const ok = await api.send('/v1/events', { key: project.write_key, body: { event: 'after_hangup', distinct_id: 'u' } });
    expect(ok.status).toBe(202);
    acceptedTotal += ok.json.accepted;
  });

  it('answers a path that is not percent-encoded UTF-8 with a 400 in the documented shape', async () => {
    for (const [method, path] of [
      ['POST', '/v1/events%FF'],
      ['GET', '/v1/persons/%ED%A0%80'],
      ['DELETE', `/v1/projects/${project.project_id}/persons/%FF`],
    ] as const) {
      const res = await fetch(api.baseUrl + path, { method, headers: { authorization: `Bearer ${project.write_key}` } });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        error: { code: 'INVALID_REQUEST', message: 'the URL is not valid: its percent-encoded bytes must be UTF-8' },
      });
    }
  });

  it('the process is alive, still accepts a valid event, and the streams hold exactly the accepted events', async () => {
    expect((await fetch(`${api.adminUrl}/livez`)).status).toBe(200);
    const ok = await api.send('/v1/events', { key: project.write_key, body: { event: 'after_corpus', distinct_id: 'u' } });
    expect(ok.status).toBe(202);
    expect(ok.json).toEqual({ accepted: 1, rejected: [] });
    acceptedTotal += ok.json.accepted;
    // Every event of every entry decodes (an entry holds a request's events of one shard).
    let inStreams = 0;
    for (const key of streamKeys(4))
      for (const [, fields] of (await redis.client.xrange(key, '-', '+')) as [string, string[]][])
        inStreams += decodeStreamEvents(fields).length;
    expect(inStreams).toBe(acceptedTotal);
    // One validation: a worker stores every event the API accepted, and dead-letters none.
    const worker = await startTestWorker({ databaseUrl: db.url, redisUrl: redis.url });
    try {
      const stored = async () =>
        Number((await db.pool.query('SELECT count(*) AS n FROM events WHERE project_id = $1', [project.project_id])).rows[0].n);
      const pendingPerShard = async () =>
        Promise.all(streamKeys(4).map(async (key) => Number(((await redis.client.xpending(key, 'eap-writers')) as [number])[0])));
      await waitFor(async () => (await stored()) === acceptedTotal, 30_000, `${acceptedTotal} accepted events stored`);
      // The worker acknowledges a batch after its commit, so the last acknowledgement may follow
      // the count: wait for it, then the count must not have moved.
      await waitFor(async () => (await pendingPerShard()).every((n) => n === 0), 10_000, 'every stored entry acknowledged');
      expect(await stored()).toBe(acceptedTotal);
    } finally {
      await worker.stop();
    }
    expect(await redis.client.xlen('eap:dlq')).toBe(0);
    // The API runs in this process: no "__proto__" or "constructor" payload reached a prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });
});
