import Bowser from 'bowser';

/** What a user agent says about the browser, OS and device; absent fields are left out. */
export interface ParsedUserAgent {
  browser?: { name?: string; version?: string };
  os?: { name?: string; version?: string };
  device?: { type?: string; vendor?: string; model?: string };
}

function compact<T extends Record<string, string | undefined>>(fields: T): Partial<T> | undefined {
  let out: Partial<T> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === '') continue;
    out ??= {};
    (out as Record<string, string>)[key] = value;
  }
  return out;
}

/** Parses a user agent (bowser, MIT) into browser {name, version}, os {name, version} and device {type, vendor, model}. */
export function parseUserAgent(userAgent: string): ParsedUserAgent {
  const parsed: ParsedUserAgent = {};
  if (userAgent.trim() === '') return parsed;
  const result = Bowser.parse(userAgent);
  const browser = compact({ name: result.browser.name, version: result.browser.version });
  const os = compact({ name: result.os.name, version: result.os.version });
  const device = compact({ type: result.platform.type, vendor: result.platform.vendor, model: result.platform.model });
  if (browser) parsed.browser = browser;
  if (os) parsed.os = os;
  if (device) parsed.device = device;
  return parsed;
}
