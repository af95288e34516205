import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { readApiKey } from './request-key.ts';

const withHeaders = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('readApiKey', () => {
  it('reads Bearer, X-Api-Key and the user name of HTTP Basic (Segment SDKs)', () => {
    expect(readApiKey(withHeaders({ authorization: 'Bearer eap_w_abc' }))).toBe('eap_w_abc');
    expect(readApiKey(withHeaders({ 'x-api-key': 'eap_w_abc' }))).toBe('eap_w_abc');
    expect(readApiKey(withHeaders({ authorization: basic('eap_w_abc:') }))).toBe('eap_w_abc');
    expect(readApiKey(withHeaders({ authorization: basic('eap_w_abc:ignored') }))).toBe('eap_w_abc');
    expect(readApiKey(withHeaders({ authorization: basic('eap_w_abc') }))).toBe('eap_w_abc');
  });

  it('finds no key in Basic credentials without a user name or with one that is no key', () => {
    expect(readApiKey(withHeaders({ authorization: basic(':secret') }))).toBeUndefined();
    expect(readApiKey(withHeaders({ authorization: basic('two words:') }))).toBeUndefined();
    expect(readApiKey(withHeaders({ authorization: 'Basic eap_w_not_base64' }))).toBeUndefined();
  });
});
