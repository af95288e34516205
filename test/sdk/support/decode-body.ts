import { gunzipSync } from 'node:zlib';

/** How a request body was encoded on the wire, as far as the bytes and headers tell. */
export type BodyEncoding = 'empty' | 'json' | 'gzip-json' | 'form-base64-json' | 'form-json' | 'text';

/** A request body decoded the way a server would have to decode it. */
export interface DecodedBody {
  encoding: BodyEncoding;
  /** The parsed JSON, or the text when it is not JSON. */
  value: unknown;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * Decodes what SDK clients send: gzip recognised by its magic bytes alone (posthog-js sends
 * `text/plain` gzip with no header saying so), the beacon's form field `data=<base64 JSON>`
 * (`?compression=base64`), a form field of plain JSON, or JSON text.
 */
export function decodeBody(raw: Buffer, contentType: string | undefined, query: URLSearchParams): DecodedBody {
  if (raw.length === 0) return { encoding: 'empty', value: undefined };
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    const text = gunzipSync(raw).toString('utf8');
    const parsed = parseJson(text);
    return { encoding: 'gzip-json', value: parsed.ok ? parsed.value : text };
  }
  const text = raw.toString('utf8');
  if ((contentType ?? '').includes('application/x-www-form-urlencoded') || /^data=/.test(text)) {
    const data = new URLSearchParams(text).get('data') ?? '';
    if (query.get('compression') === 'base64') {
      const parsed = parseJson(Buffer.from(data, 'base64').toString('utf8'));
      if (parsed.ok) return { encoding: 'form-base64-json', value: parsed.value };
    }
    const parsed = parseJson(data);
    if (parsed.ok) return { encoding: 'form-json', value: parsed.value };
  }
  const parsed = parseJson(text);
  return parsed.ok ? { encoding: 'json', value: parsed.value } : { encoding: 'text', value: text };
}
