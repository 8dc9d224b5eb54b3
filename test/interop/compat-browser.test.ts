import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('lets the page read history, publish, and read a 401 with its WWW-Authenticate (fetch, CORS enforced)', async () => {
    const subscriber = await server.token({ user: 'web', scope: 'subscribe', topics: ['web'] });
    const publisher = await server.token({ user: 'web', scope: 'publish', topics: ['web'] });
    const tab = await browser.newPage();
    try {
      await tab.goto(pageUrl());
      const result = await tab.evaluate(
        async ({ base, subscriber, publisher }) => {
          const published = await fetch(`${base}/v1/alarms`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${publisher}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ topic: 'web', title: 'from the page' }),
          });
          const history = await fetch(`${base}/v1/alarms?topics=web&since=all`, {
            headers: { Authorization: `Bearer ${subscriber}` },
          });
          const denied = await fetch(`${base}/v1/alarms`, { headers: { Authorization: 'Bearer nope' } });
          return {
            published: published.status,
            history: (await history.json()) as { alarms: { title: string }[] },
            denied: denied.status,
            challenge: denied.headers.get('www-authenticate'),
            problem: ((await denied.json()) as { code: string }).code,
          };
        },
        { base: server.url, subscriber, publisher },
      );
      expect(result.published).toBe(201);
      expect(result.history.alarms.map((a) => a.title)).toEqual(['from the page']);
      expect(result.denied).toBe(401);
      expect(result.challenge).toMatch(/^Bearer realm="tocsin", error="invalid_token"/);
      expect(result.problem).toBe('unauthorized');
    } finally {
      await tab.close();
    }
  });
});
