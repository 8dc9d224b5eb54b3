import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.ts';
import { compatibilityChecks } from '../helpers/compat-checks.ts';
import { browserDriver, type PageServer, startPageServer } from '../helpers/compat-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = chromiumUnavailable();

/**
 * Browser clients on a web page of another origin than Tocsin's (`--allow-origin` that page): the
 * polyfill and fetch-event-source send Authorization (a CORS preflight each time), the native
 * EventSource uses `?access_token=`.
 */
describe.skipIf(skip !== null)('browser clients in Chromium, cross-origin', () => {
  let browser: Browser;
  let page: PageServer;
  let server: TestServer;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await startPageServer();
    server = await startTestServer({ heartbeatMs: 250, retryMs: 300, allowedOrigins: [page.origin] });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await page?.close();
    await server?.dispose();
  });

  const target = {
    server: () => server,
    streamUrl: (topic: string) => `${server.url}/v1/stream?topics=${topic}`,
  };
  const pageUrl = () => `${page.origin}/`;

  describe('native EventSource', () => {
    compatibilityChecks(
      browserDriver('Chromium EventSource', 'native', () => browser, pageUrl),
      target,
    );
  });
  describe('event-source-polyfill', () => {
    compatibilityChecks(
      browserDriver('event-source-polyfill', 'polyfill', () => browser, pageUrl),
      target,
    );
  });
  describe('fetch-event-source', () => {
    compatibilityChecks(
      browserDriver('fetch-event-source (Chromium)', 'fetch-event-source', () => browser, pageUrl),
      target,
    );
  });
});
