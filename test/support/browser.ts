import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core: no browser is downloaded, the one .ci/run installs (Debian package
 * `chromium`) is used. Where it is missing the test fails and says how to get it; it never skips (like tools.ts).
 */
export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is needed by this test and is missing: .ci/run installs it with the Debian package chromium (apt-get install chromium)`);
  }
  try {
    // --no-sandbox: CI runs as root, where Chromium refuses its sandbox; the pages it opens are our own.
    return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  } catch (err) {
    throw new Error(`${CHROMIUM} did not start (${(err as Error).message.split('\n')[0]}); it comes from the Debian package chromium (apt-get install chromium)`);
  }
}
