import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.ts';
import { type PageServer, startBlankPage } from '../helpers/compat-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = chromiumUnavailable();

/** ntfy's web app subscribes with the browser's EventSource to /{topics}/sse?auth=…: the same here. */
describe.skipIf(skip !== null)('Chromium’s EventSource against ntfy’s /sse', () => {
  let browser: Browser;
  let page: PageServer;
  let pageOrigin: string;
  let server: TestServer;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await startBlankPage();
    pageOrigin = page.origin;
    server = await startTestServer({ allowedOrigins: [pageOrigin] });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await page?.close();
    await server?.dispose();
  });

  const publish = async (topic: string, message: string) => {
    const response = await fetch(`${server.url}/${topic}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, title: `t-${message}` },
      body: message,
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }).id;
  };

  it('gets messages through onmessage with ?auth=, and after a restart resumes after the last id', async () => {
    const token = await server.token({ user: 'alice', scope: 'subscribe', topics: ['web'] });
    const auth = Buffer.from(`Bearer ${token}`).toString('base64').replace(/=+$/, '');
    const tab = await browser.newPage();
    await tab.goto(pageOrigin);
    await tab.evaluate(
      ({ url }) => {
        const w = globalThis as unknown as { got: { id: string; message: string }[]; opens: number };
        w.got = [];
        w.opens = 0;
        const source = new EventSource(url);
        source.addEventListener('open', (event) => {
          if (event instanceof MessageEvent) w.opens++; // ntfy's open event, not the connection's
        });
        source.onmessage = (event) => {
          w.got.push({ id: event.lastEventId, message: JSON.parse(event.data).message });
        };
      },
      { url: `${server.url}/web/sse?auth=${auth}` },
    );
    const state = () =>
      tab.evaluate(() => {
        const w = globalThis as unknown as { got: { id: string; message: string }[]; opens: number };
        return { got: w.got, opens: w.opens };
      });
    await expect.poll(async () => (await state()).opens, { timeout: 10_000 }).toBe(1);
    const one = await publish('web', 'one');
    await expect
      .poll(async () => (await state()).got, { timeout: 10_000 })
      .toEqual([{ id: one, message: 'one' }]);

    await server.stop();
    await server.restart();
    const two = await publish('web', 'two');
    const three = await publish('web', 'three');
    await expect
      .poll(async () => (await state()).got.map((g) => g.id), { timeout: 20_000 })
      .toEqual([one, two, three]);
    expect((await state()).opens).toBe(2);
    await tab.close();
  }, 60_000);
});
