import { findChromium } from '@eap/local-services';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's Chromium (make chromium), headless, driven by puppeteer-core (which downloads no
 * browser).
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await findChromium();
  if (executablePath === undefined)
    throw new Error('Chromium not found: run `make chromium` (apt-get install chromium) or set CHROMIUM_PATH');
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * Opens `url` in a new page of a fresh browser context (no cookies or storage from another
 * page: each SDK starts with a new anonymous id) and waits until its scripts ran. The page
 * presents Chromium's own user agent with `HeadlessChrome` read as `Chrome`, as a user's
 * browser would: EAP (bot filtering on by default) counts `HeadlessChrome` as a bot, and bot
 * events touch no person.
 */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setUserAgent({ userAgent: (await browser.userAgent()).replace('HeadlessChrome', 'Chrome') });
  page.on('pageerror', (error) => process.stderr.write(`[test page] ${String(error)}\n`));
  await page.goto(url, { waitUntil: 'load' });
  return page;
}
