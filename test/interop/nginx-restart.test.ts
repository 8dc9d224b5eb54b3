import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.ts';
import { compatibilityChecks } from '../helpers/compat-checks.ts';
import { browserDriver, type PageServer, startPageServer } from '../helpers/compat-clients.ts';
import { eventsource5, tocsinAgent } from '../helpers/compat-node-clients.ts';
import { type Nginx, nginxUnavailable, startNginx } from '../helpers/nginx.ts';
import { docsNginxBlock, pageLocations } from '../helpers/nginx-docs.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = nginxUnavailable() ?? chromiumUnavailable();

/**
 * docs/operations.md's nginx block, as written (only the upstream address swapped), in front of one
 * Tocsin, with browsers' EventSource clients through it across restarts of the server.
 */
describe.skipIf(skip !== null)('the nginx block of docs/operations.md, with Chromium', () => {
  let browser: Browser;
  let page: PageServer;
  let server: TestServer;
  let nginx: Nginx;
  let block: string;

  const site = (port: number, config: string) => `
  server {
    listen 127.0.0.1:${port};
    ${pageLocations(new URL(page.origin).host)}
    ${config.replaceAll('127.0.0.1:8080', new URL(server.url).host)}
  }`;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await startPageServer();
    server = await startTestServer({
      heartbeatMs: 250,
      retryMs: 300,
      trustProxy: true,
      allowedOrigins: [page.origin],
    });
    block = await docsNginxBlock('operations.md', 'nginx-single');
    expect(block).toContain('127.0.0.1:8080');
    nginx = await startNginx((port) => site(port, block));
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await page?.close();
    await server?.dispose();
  });

  const target = {
    server: () => server,
    streamUrl: (topic: string) => `${nginx.url}/v1/stream?topics=${topic}`,
  };

  describe('same origin (the page is served through the same nginx)', () => {
    const pageUrl = () => `${nginx.url}/app`;
    describe('native EventSource', () => {
      compatibilityChecks(
        browserDriver('Chromium EventSource via nginx', 'native', () => browser, pageUrl),
        target,
      );
    });
    describe('event-source-polyfill, default options', () => {
      compatibilityChecks(
        browserDriver('event-source-polyfill via nginx', 'polyfill', () => browser, pageUrl),
        target,
      );
    });
  });

  describe('Node clients: the stand-in answer must not confuse them either', () => {
    compatibilityChecks({ ...tocsinAgent, name: 'Tocsin agent via nginx' }, target);
    compatibilityChecks({ ...eventsource5, name: 'eventsource 5 via nginx' }, target);
  });

  describe('cross-origin (the page elsewhere, --allow-origin it)', () => {
    const pageUrl = () => `${page.origin}/app`;
    describe('native EventSource', () => {
      compatibilityChecks(
        browserDriver('Chromium EventSource via nginx, cross-origin', 'native', () => browser, pageUrl),
        target,
      );
    });
  });

  it('without the error_page, a restart loses the native EventSource for good (why the block has it)', async () => {
    const without = block.replace(/^\s*error_page .*$/m, '');
    expect(without).not.toContain('error_page');
    const bare = await startNginx((port) => site(port, without));
    const tab = await browser.newPage();
    try {
      await tab.goto(`${bare.url}/app`);
      const token = await server.token({ user: 'lost', scope: 'subscribe', topics: ['lost'] });
      await tab.evaluate(
        ([url, t]) =>
          (globalThis as unknown as { compat: { open(...a: string[]): Promise<void> } }).compat.open(
            'native',
            url,
            t,
          ),
        [`${bare.url}/v1/stream?topics=lost`, token] as const,
      );
      const state = () =>
        tab.evaluate(
          () =>
            (globalThis as unknown as { compat: { rec: { readies: number; closed: boolean } } }).compat.rec,
        );
      await expect.poll(async () => (await state()).readies, { timeout: 10_000 }).toBe(1);
      await server.stop();
      await expect.poll(async () => (await state()).closed, { timeout: 10_000 }).toBe(true);
    } finally {
      await tab.close();
      await server.restart();
      await bare.stop();
    }
  }, 30_000);
});
