import { describe, expect, it } from 'vitest';
import { allowedRequestHeaders } from './cors.ts';

describe('allowedRequestHeaders', () => {
  it('echoes the requested header names that are HTTP tokens, bounded', () => {
    expect(allowedRequestHeaders('Content-Type, Authorization,x-api-key')).toBe('Content-Type, Authorization, x-api-key');
    expect(allowedRequestHeaders('content-type, bad header, x\r\ny')).toBe('content-type');
    expect(allowedRequestHeaders(undefined)).toBeUndefined();
    expect(allowedRequestHeaders('a'.repeat(1001))).toBeUndefined();
    expect(allowedRequestHeaders(Array.from({ length: 50 }, (_, i) => `h${i}`).join(','))?.split(', ')).toHaveLength(30);
  });
});
