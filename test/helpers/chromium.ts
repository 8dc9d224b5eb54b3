import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.TOCSIN_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why Chromium tests cannot run here, or null when they can. On CI (CI=true) a missing browser is a
 * failure, not a skip: .ci/run installs it.
 */
export function chromiumUnavailable(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const reason = `Chromium not found at ${CHROMIUM_PATH} (Debian: apt-get install chromium; or set TOCSIN_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`CI must run the browser tests: ${reason}`);
  console.warn(`SKIPPED browser tests: ${reason}`);
  return reason;
}

/** Debian's Chromium, headless, with the flags this sandboxed, offline machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
