import { isbotMatch } from 'isbot';

// A product token that names a crawler: "Googlebot/2.1", "bingbot", "AhrefsBot", "Baiduspider".
const BOT_TOKEN = /([A-Za-z][\w.-]*?(?:bot|crawler|spider|scraper|slurp))\b/i;

/**
 * The bot a user agent belongs to (isbot, Unlicense, recognises the crawlers, monitors, HTTP
 * libraries and headless browsers it lists), named by its product token when it has one
 * ("Googlebot"), else by the part isbot matched; undefined for browsers.
 */
export function detectBot(userAgent: string): { name: string } | undefined {
  const match = isbotMatch(userAgent);
  if (match === null) return undefined;
  const token = BOT_TOKEN.exec(userAgent)?.[1];
  const name = (token ?? match).replace(/[\s/;()]+$/g, '').trim();
  return { name: (name || match).slice(0, 100) };
}
