import { isbotMatch } from 'isbot';

// A product token that names a crawler: "Googlebot/2.1", "bingbot", "AhrefsBot", "Baiduspider".
const BOT_TOKEN = /([A-Za-z][\w.-]*?(?:bot|crawler|spider|scraper|slurp))\b/i;

/**
 * The bot a user agent belongs to, named by its product token when it has one ("Googlebot"), else
 * by the part isbot (Unlicense) matched; undefined for browsers and for HTTP clients.
 *
 * isbot also lists HTTP libraries (`node`, `curl`, `python-requests`, any bare `name/1.0`), which
 * is what server-side SDKs send with: those events are people's, forwarded by a server. So a user
 * agent isbot recognises counts as a bot only when it presents itself as a browser (`Mozilla/…`:
 * crawlers that run pages' scripts, headless browsers) or names a crawler.
 */
export function detectBot(userAgent: string): { name: string } | undefined {
  const match = isbotMatch(userAgent);
  if (match === null) return undefined;
  const token = BOT_TOKEN.exec(userAgent)?.[1];
  if (token === undefined && !userAgent.startsWith('Mozilla/')) return undefined;
  const name = (token ?? match).replace(/[\s/;()]+$/g, '').trim();
  return { name: (name || match).slice(0, 100) };
}
