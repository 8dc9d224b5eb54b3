import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.ts';
import {
  browserDriver,
  type ClientHandle,
  type PageServer,
  startPageServer,
} from '../helpers/compat-clients.ts';
import { type Nginx, nginxUnavailable, startNginx } from '../helpers/nginx.ts';
import { docsNginxBlock, pageLocations } from '../helpers/nginx-docs.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = redisUnavailable() ?? nginxUnavailable() ?? chromiumUnavailable();
const WAIT = { timeout: 30_000, interval: 100 };

/**
 * docs/scale-out.md's nginx block in front of two instances on one Redis, and browser tabs through
 * it while both instances are restarted one after the other, faster than nginx's fail_timeout.
 */
describe.skipIf(skip !== null)('a rolling restart behind the nginx block of docs/scale-out.md', () => {
  let browser: Browser;
  let page: PageServer;
  let redis: RedisServer;
  let a: TestServer;
  let b: TestServer;
  let nginx: Nginx;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await startPageServer();
    redis = await startRedis();
    const options = { redisUrl: redis.url(), trustProxy: true, heartbeatMs: 250, retryMs: 300 };
    a = await startTestServer(options);
    b = await startTestServer(options);
    const block = await docsNginxBlock('scale-out.md', 'scale-out');
    nginx = await startNginx((port) => {
      const config = block
        .replace('127.0.0.1:8081', new URL(a.url).host)
        .replace('127.0.0.1:8082', new URL(b.url).host)
        .replace(
          'listen 127.0.0.1:8080;',
          `listen 127.0.0.1:${port};\n${pageLocations(new URL(page.origin).host)}`,
        );
      expect(config).toContain(`listen 127.0.0.1:${port};`);
      return config;
    });
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await page?.close();
    await a?.dispose();
    await b?.dispose();
    await redis?.dispose();
  });

  it('keeps the native EventSource and event-source-polyfill, each alarm exactly once', async () => {
    const pageUrl = () => `${nginx.url}/app`;
    const streamUrl = `${nginx.url}/v1/stream?topics=rolling`;
    const clients: [string, ClientHandle][] = [];
    for (const [name, kind] of [
      ['native', 'native'],
      ['polyfill', 'polyfill'],
    ] as const) {
      const token = await a.token({ user: `rolling-${name}`, scope: 'subscribe', topics: ['rolling'] });
      clients.push([name, await browserDriver(name, kind, () => browser, pageUrl).open(streamUrl, token)]);
    }
    const titles = async () =>
      Object.fromEntries(
        await Promise.all(
          clients.map(async ([name, c]) => [name, (await c.state()).alarms.map((x) => x.title)] as const),
        ),
      );
    const everyone = (list: string[]) => Object.fromEntries(clients.map(([name]) => [name, list]));
    for (const [, c] of clients) await expect.poll(async () => (await c.state()).readies, WAIT).toBe(1);
    await a.publish(a.adminToken, { topic: 'rolling', title: 'before' });
    await expect.poll(titles, WAIT).toEqual(everyone(['before']));

    // least_conn put one tab on each instance. Stop a: its tab comes back through nginx, which tries
    // a first (fewest connections), is refused, counts a as failed for fail_timeout, and uses b.
    expect([a.server.context.registry.size, b.server.context.registry.size]).toEqual([1, 1]);
    await a.stop();
    await expect.poll(() => b.server.context.registry.size, WAIT).toBe(2);
    await b.publish(b.adminToken, { topic: 'rolling', title: 'while a restarts' });
    await a.restart();
    // Then b, within a's fail_timeout: nginx has no instance it will use and answers 502 (or, with
    // the error_page, the retry). Wait until every tab tried once while b was down.
    const errorsBefore = await Promise.all(clients.map(async ([, c]) => (await c.state()).errors));
    await b.stop();
    await a.publish(a.adminToken, { topic: 'rolling', title: 'while b restarts' });
    for (const [i, [, c]] of clients.entries()) {
      await expect
        .poll(async () => {
          const rec = await c.state();
          return rec.closed || rec.errors >= (errorsBefore[i] ?? 0) + 2;
        }, WAIT)
        .toBe(true);
    }
    await b.restart();

    const all = ['before', 'while a restarts', 'while b restarts'];
    await expect.poll(titles, WAIT).toEqual(everyone(all));
    await b.publish(b.adminToken, { topic: 'rolling', title: 'after' });
    await expect.poll(titles, WAIT).toEqual(everyone([...all, 'after']));
    for (const [name, c] of clients) {
      const rec = await c.state();
      expect(rec.closed, name).toBe(false);
      expect(rec.errors, name).toBeGreaterThanOrEqual(1);
      await c.close();
    }
  }, 90_000);
});
