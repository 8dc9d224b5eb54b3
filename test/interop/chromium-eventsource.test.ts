import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.ts';
import { type PageServer, startBlankPage } from '../helpers/compat-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = chromiumUnavailable();

/** The browser's own EventSource, not ours: proves the wire format and reconnect semantics are standard. */
describe.skipIf(skip !== null)('Chromium’s EventSource against Tocsin', () => {
  let browser: Browser;
  let page: PageServer;
  let pageOrigin: string;
  let server: TestServer;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await startBlankPage();
    pageOrigin = page.origin;
    server = await startTestServer({ allowedOrigins: [pageOrigin], retryMs: 200 });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await page?.close();
    await server?.dispose();
  });

  it('receives alarms, and after the server restarts reconnects by itself and replays exactly what it missed', async () => {
    const token = await server.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const tab = await browser.newPage();
    await tab.goto(pageOrigin);
    await tab.evaluate(
      ({ url }) => {
        const w = globalThis as unknown as {
          got: { id: string; title: string }[];
          opens: number;
          readies: number;
        };
        w.got = [];
        w.opens = 0;
        w.readies = 0;
        const source = new EventSource(url);
        source.onopen = () => {
          w.opens++;
        };
        source.addEventListener('ready', () => {
          w.readies++;
        });
        source.addEventListener('alarm', (event) => {
          const alarm = JSON.parse((event as MessageEvent).data);
          w.got.push({ id: (event as MessageEvent).lastEventId, title: alarm.title });
        });
      },
      { url: `${server.url}/v1/stream?topics=ops&access_token=${encodeURIComponent(token)}` },
    );
    const state = () =>
      tab.evaluate(() => {
        const w = globalThis as unknown as {
          got: { id: string; title: string }[];
          opens: number;
          readies: number;
        };
        return { got: w.got, opens: w.opens, readies: w.readies };
      });
    await expect.poll(async () => (await state()).readies, { timeout: 10_000 }).toBe(1);
    const first = await server.publish(server.adminToken, { topic: 'ops', title: 'one' });
    await expect.poll(async () => (await state()).got.length, { timeout: 10_000 }).toBe(1);

    // The server goes away and comes back on the same port; meanwhile nothing can be delivered.
    await server.stop();
    await server.restart();
    const missed = [
      await server.publish(server.adminToken, { topic: 'ops', title: 'two' }),
      await server.publish(server.adminToken, { topic: 'ops', title: 'three' }),
    ];
    await expect.poll(async () => (await state()).readies, { timeout: 15_000 }).toBe(2);
    await expect.poll(async () => (await state()).got.length, { timeout: 10_000 }).toBe(3);
    const { got, opens } = await state();
    expect(got).toEqual([
      { id: first.id, title: 'one' },
      { id: missed[0]?.id, title: 'two' },
      { id: missed[1]?.id, title: 'three' },
    ]);
    expect(opens).toBe(2);
    await tab.close();
  }, 40_000);

  it('gives up on a 401 instead of retrying in a loop', async () => {
    const tab = await browser.newPage();
    await tab.goto(pageOrigin);
    const outcome = await tab.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const source = new EventSource(url);
          source.onerror = () => {
            resolve(source.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
            source.close();
          };
          source.addEventListener('ready', () => resolve('ready'));
        }),
      `${server.url}/v1/stream?topics=ops`,
    );
    // A 401 is not text/event-stream: the browser's EventSource fails and does not retry.
    expect(outcome).toBe('closed');
    await tab.close();
  });
});
