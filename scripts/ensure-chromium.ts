// Makes sure a Chromium exists for the browser SDK tests (test/sdk/: posthog-js and Segment's
// analytics-next in headless Chromium), installing Debian's `chromium` with apt-get when running
// as root. Nothing is downloaded by puppeteer itself: it drives this binary.
import { ensureChromium } from '@eap/local-services';

try {
  console.log(`chromium: ${await ensureChromium()}`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
