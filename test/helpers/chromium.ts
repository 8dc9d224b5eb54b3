import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { requirement } from './requirements.ts';

export const CHROMIUM_PATH = process.env.TOCSIN_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why Chromium tests cannot run here, or null when they can. On CI (CI=true) a missing browser is a
 * failure, not a skip: .ci/run installs it.
 */
export function chromiumUnavailable(): string | null {
  return requirement(
    'browser tests',
    existsSync(CHROMIUM_PATH)
      ? null
      : `Chromium not found at ${CHROMIUM_PATH} (Debian: apt-get install chromium; Fedora: dnf install chromium; or set TOCSIN_CHROMIUM to any Chromium or Chrome binary)`,
  );
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
