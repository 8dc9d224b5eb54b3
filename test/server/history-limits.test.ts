import { mkdtemp, rm } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryResponse } from '../../protocol/index.ts';
import { openStore } from '../../server/store/open.ts';
import type { AlarmStore, TokenStore } from '../../server/store/store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer | undefined;
let storeDir: string | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
  if (storeDir !== undefined) await rm(storeDir, { recursive: true, force: true });
  storeDir = undefined;
});

const history = (token: string, query = '') =>
  fetch(`${(server as TestServer).url}/v1/alarms?topics=*${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });

/** A real SQLite store whose history reads wait at a gate the test opens: requests stay in flight. */
async function gatedStore(openAtOnce = false) {
  storeDir = await mkdtemp(join(tmpdir(), 'tocsin-gated-'));
  const real = openStore({ dataDir: storeDir, retention: { maxAgeMs: 86_400_000, maxCount: 1_000 } });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const state = { waiting: 0, open, limits: [] as number[] };
  if (openAtOnce) open();
  const store = new Proxy(real, {
    get(target, key, receiver) {
      if (key === 'read') {
        return async (...args: Parameters<AlarmStore['read']>) => {
          state.waiting++;
          state.limits.push(args[2]);
          await gate;
          return target.read(...args);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as AlarmStore & TokenStore;
  return { store, state, close: () => real.close() };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('GET /v1/alarms limits', () => {
  it('is rate limited per token, with problem+json and Retry-After', async () => {
    server = await startTestServer({ historyRateLimit: { max: 3, windowMs: 60_000 } });
    const alice = await server.token({ user: 'alice', scope: 'subscribe' });
    for (let i = 0; i < 3; i++) expect((await history(alice)).status).toBe(200);
    const limited = await history(alice);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ code: 'rate-limited' });
    // Another token has its own budget.
    const bob = await server.token({ user: 'bob', scope: 'subscribe' });
    expect((await history(bob)).status).toBe(200);
  });

  it('bounds requests in flight per token (429) and in total (503)', async () => {
    const gated = await gatedStore();
    try {
      server = await startTestServer({
        historyConcurrency: { perKey: 2, total: 3 },
        deps: { store: gated.store },
      });
      const [a, b, c] = await Promise.all(
        ['a', 'b', 'c'].map((user) => (server as TestServer).token({ user, scope: 'subscribe' })),
      );
      const inFlight = [history(a as string), history(a as string), history(b as string)];
      await until(() => gated.state.waiting === 3);
      const overToken = await history(a as string);
      expect(overToken.status).toBe(429);
      expect(await overToken.json()).toMatchObject({ code: 'rate-limited' });
      const overTotal = await history(c as string);
      expect(overTotal.status).toBe(503);
      expect(overTotal.headers.get('retry-after')).toBe('1');
      expect(await overTotal.json()).toMatchObject({ code: 'unavailable' });
      gated.state.open();
      for (const response of await Promise.all(inFlight)) expect(response.status).toBe(200);
      // Finished responses gave their slots back.
      expect((await history(a as string)).status).toBe(200);
      expect((await history(c as string)).status).toBe(200);
    } finally {
      await server?.dispose();
      server = undefined;
      await gated.close();
    }
  });

  it('streams the history page by page with the same body and paging as before', async () => {
    server = await startTestServer({ publishRateLimit: { max: 10_000, windowMs: 60_000 } });
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) {
      ids.push((await server.publish(server.adminToken, { title: `n${i}`, topic: 'ops' })).id);
    }
    const all = HistoryResponse.parse(await (await history(server.adminToken, '&limit=1000')).json());
    expect(all.alarms.map((a) => a.id)).toEqual(ids);
    expect(all.next).toBeNull();

    const exact = HistoryResponse.parse(await (await history(server.adminToken, '&limit=250')).json());
    expect(exact.alarms).toHaveLength(250);
    expect(exact.next).toBe(ids.at(-1));

    const paged: string[] = [];
    let since: string | null = '0';
    while (since !== null) {
      const page = HistoryResponse.parse(
        await (await history(server.adminToken, `&limit=120&since=${since}`)).json(),
      );
      paged.push(...page.alarms.map((a) => a.id));
      since = page.next;
    }
    expect(paged).toEqual(ids);

    const empty = await history(server.adminToken, `&since=${ids.at(-1)}`);
    expect(await empty.json()).toEqual({ alarms: [], next: null });
    expect((await history(server.adminToken, '&limit=1001')).status).toBe(400);
  }, 60_000);

  it('writes a large history page by page, and stops reading the store while the client does not read', async () => {
    const gated = await gatedStore(true);
    try {
      server = await startTestServer({
        maxMessageBytes: 64 * 1024,
        publishRateLimit: { max: 10_000, windowMs: 60_000 },
        deps: { store: gated.store },
      });
      const big = 'x'.repeat(60 * 1024);
      for (let i = 0; i < 1000; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            (server as TestServer).publish((server as TestServer).adminToken, {
              title: `n${i + j}`,
              topic: 'ops',
              body: big,
            }),
          ),
        );
      }
      gated.state.limits.length = 0;
      // A client that asks for 60 MB of history and does not read it.
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        get(
          `${(server as TestServer).url}/v1/alarms?topics=*&limit=1000`,
          { headers: { authorization: `Bearer ${(server as TestServer).adminToken}` } },
          (res) => {
            res.pause();
            resolve(res);
          },
        ).on('error', reject);
      });
      expect(response.statusCode).toBe(200);
      // The server reads pages until the socket stops taking them, then waits.
      let seen = -1;
      while (seen !== gated.state.limits.length) {
        seen = gated.state.limits.length;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(Math.max(...gated.state.limits)).toBeLessThanOrEqual(100);
      expect(gated.state.limits.length).toBeLessThan(10);

      // Reading resumes the pages; the body is the whole, valid answer.
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      const parsed = HistoryResponse.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      expect(parsed.alarms).toHaveLength(1000);
      expect(new Set(parsed.alarms.map((a) => a.title))).toEqual(
        new Set(Array.from({ length: 1000 }, (_, i) => `n${i}`)),
      );
      expect(gated.state.limits.length).toBe(10);
    } finally {
      await server?.dispose();
      server = undefined;
      await gated.close();
    }
  }, 120_000);
});
