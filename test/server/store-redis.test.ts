import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { RedisStore, type RedisStoreOptions } from '../../server/store/redis.ts';
import type { NewAlarm } from '../../server/store/store.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { describeStoreContract, type StoreFixture } from './store-contract.ts';

const skip = redisUnavailable();
const roomy = { maxAgeMs: 3_600_000, maxCount: 1_000_000 };
const alarm = (title: string, to: Partial<NewAlarm> = { topic: 'ops' }): NewAlarm => ({
  title,
  priority: 3,
  tags: [],
  ...to,
});

describe.skipIf(skip !== null)('Redis store', () => {
  let redis: RedisServer;
  let admin: Redis;
  const stores: RedisStore[] = [];
  /** Every store a test opens is closed afterwards, even when the test fails. */
  const open = (options: Omit<RedisStoreOptions, 'url'> & { url?: string }) => {
    const store = new RedisStore({ url: redis.url(), ...options });
    stores.push(store);
    return store;
  };
  const prefix = () => `t-${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url(), { lazyConnect: true });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    admin?.disconnect();
    await redis?.dispose();
  });

  // Each contract case gets its own key prefix in the shared server, so cases cannot see each other.
  const prefixes = new WeakMap<StoreFixture, string>();
  const fixture = async (keyPrefix: string, retention: typeof roomy): Promise<StoreFixture> => {
    let now = Date.now();
    const store = open({ retention, keyPrefix, now: () => now });
    await store.whenReady();
    const f: StoreFixture = {
      store,
      setNow: (ms) => {
        now = ms;
      },
      cleanup: async () => {
        await store.close();
        const keys = await admin.keys(`${keyPrefix}*`);
        if (keys.length > 0) await admin.del(...keys);
      },
    };
    prefixes.set(f, keyPrefix);
    return f;
  };
  describeStoreContract('redis', {
    make: (retention) => fixture(prefix(), retention),
    reopen: async (first) => {
      await first.store.close(); // close without deleting its keys
      return fixture(prefixes.get(first) as string, roomy);
    },
  });

  it('two instances releasing the same scheduled alarms at once append each exactly once', async () => {
    const first = await fixture(prefix(), roomy);
    const second = await fixture(prefixes.get(first) as string, roomy);
    try {
      const now = Date.now();
      for (let i = 0; i < 50; i++) await first.store.schedule(alarm(`s${i}`), now - 1, now - 10);
      const released = await Promise.all([
        first.store.releaseDue(now, 1000),
        second.store.releaseDue(now, 1000),
        first.store.releaseDue(now, 7),
        second.store.releaseDue(now, 13),
      ]);
      expect(released.reduce((a, b) => a + b, 0)).toBe(50);
      const read = await first.store.read(null, { user: 'x', topics: ['ops'] }, 1000);
      expect(read.map((a) => a.title).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `s${i}`).sort());
    } finally {
      await second.store.close();
      await first.cleanup();
    }
  });

  it('uses stream ids as alarm ids, canonical and ordered numerically (BigInt-safe)', () => {
    const store = open({ retention: roomy, keyPrefix: prefix() });
    expect(store.parseId('1700000000000-0')).toBe('1700000000000-0');
    expect(store.parseId('0001-007')).toBe('1-7');
    expect(store.parseId('18446744073709551615-18446744073709551615')).toBe(
      '18446744073709551615-18446744073709551615',
    );
    for (const bad of ['42', '18446744073709551616-0', '1-18446744073709551616', '1-', '-1', '1-2-3', 'a-1'])
      expect(store.parseId(bad)).toBeNull();
    const ordered = ['9-0', '9-9', '9-10', '10-0', '99999999999999-0', '18446744073709551615-1'];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(store.compareIds(ordered[i] as string, ordered[i + 1] as string)).toBeLessThan(0);
      expect(store.compareIds(ordered[i + 1] as string, ordered[i] as string)).toBeGreaterThan(0);
    }
    expect(store.compareIds('5-5', '5-5')).toBe(0);
  });

  it('stamps alarms with Redis’s clock when none is injected: the id’s milliseconds are the time', async () => {
    const store = open({ retention: roomy, keyPrefix: prefix() });
    const before = Date.now();
    const a = await store.append(alarm('a'));
    expect(a.id).toMatch(/^[0-9]+-[0-9]+$/);
    expect(a.time).toBe(Number(a.id.split('-')[0]));
    // Same machine, so the clocks agree to well within a minute.
    expect(Math.abs(a.time - before)).toBeLessThan(60_000);
    expect(await store.read(null, { user: 'x', topics: ['ops'] }, 10)).toEqual([a]);
  });

  it('fans out across stores sharing Redis: each sees every alarm once, in id order', async () => {
    const keyPrefix = prefix();
    const a = open({ retention: roomy, keyPrefix });
    const b = open({ retention: roomy, keyPrefix });
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.subscribe((x) => seenA.push(x.id));
    b.subscribe((x) => seenB.push(x.id));
    // A store's listeners see what is appended once it is connected (a server listens only after that).
    await Promise.all([a.whenReady(), b.whenReady()]);
    // Interleaved appends from both instances.
    const stored = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).append(alarm(`n${i}`))),
    );
    const ids = stored.map((x) => x.id).sort((x, y) => a.compareIds(x, y));
    await expect.poll(() => seenA.length).toBe(100);
    await expect.poll(() => seenB.length).toBe(100);
    expect(seenA).toEqual(ids);
    expect(seenB).toEqual(ids);
  });

  it('retention works in bounded steps, keeps the exact horizon and drops emptied index streams', async () => {
    const keyPrefix = prefix();
    const store = open({ retention: { maxAgeMs: 3_600_000, maxCount: 100 }, keyPrefix });
    const stored: Alarm[] = [];
    // 2 500 alarms: more than two retention steps' worth; the user's alarms are all among the oldest.
    for (let round = 0; round < 5; round++) {
      const batch = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          store.append(round === 0 ? alarm(`u${i}`, { user: 'ulla' }) : alarm(`t${i}`)),
        ),
      );
      stored.push(...batch.sort((x, y) => store.compareIds(x.id, y.id)));
    }
    expect(await admin.exists(`${keyPrefix}alarms:user:ulla`)).toBe(1);
    expect(await store.prune(Date.now())).toBe(2_400);
    const through = stored[2_399] as Alarm;
    expect(await store.checkCursor((stored[0] as Alarm).id)).toEqual({ kind: 'pruned', through: through.id });
    expect(await store.checkCursor(through.id)).toEqual({ kind: 'complete' });
    const left = await store.read(null, { user: 'ulla', topics: ['ops'] }, 1_000);
    expect(left.map((x) => x.id)).toEqual(stored.slice(2_400).map((x) => x.id));
    // Only ids remain in the index streams that still hold alarms; the emptied one is gone.
    expect(await admin.exists(`${keyPrefix}alarms:user:ulla`)).toBe(0);
    expect(await admin.xlen(`${keyPrefix}alarms:topic:ops`)).toBe(100);
    expect(await admin.xlen(`${keyPrefix}alarms:all-topics`)).toBe(100);
    // No registry of every index key any more: retention finds each alarm's index from the alarm.
    expect(await admin.exists(`${keyPrefix}alarm-indexes`)).toBe(0);
  });
});

describe.skipIf(skip !== null)('Redis store while Redis is down', () => {
  let redis: RedisServer;
  const stores: RedisStore[] = [];
  const logged: string[] = [];
  const log = {
    info: (_: object, message: string) => logged.push(message),
    warn: (_: object, message: string) => logged.push(message),
    error: (_: object, message: string) => logged.push(message),
  };
  const open = (keyPrefix = 'tocsin:') => {
    const store = new RedisStore({ url: redis.url(), retention: roomy, keyPrefix, log });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis?.dispose();
  });

  it('refuses appends at once while down, keeps what it acknowledged, and resumes fan-out after', async () => {
    const a = open();
    const b = open();
    const seen: string[] = [];
    b.subscribe((x) => seen.push(x.id));
    await b.whenReady();
    const before = await a.append(alarm('before'));
    await expect.poll(() => seen).toEqual([before.id]);

    await redis.stop('SIGKILL'); // a crash: only the AOF (fsync always) survives
    await expect.poll(() => a.health().ready).toBe(false);
    expect(b.health()).toMatchObject({ ready: false });
    await expect(a.append(alarm('while down'))).rejects.toMatchObject({ code: 'unavailable' });
    await expect(b.read(null, { user: 'x', topics: ['ops'] }, 10)).rejects.toMatchObject({
      code: 'unavailable',
    });

    await redis.start();
    await expect.poll(() => a.health().ready, { timeout: 15_000 }).toBe(true);
    await expect.poll(() => b.health().ready, { timeout: 15_000 }).toBe(true);
    const after = await a.append(alarm('after'));
    await expect.poll(() => seen).toEqual([before.id, after.id]);
    expect((await b.read(null, { user: 'x', topics: ['ops'] }, 10)).map((x) => x.id)).toEqual([
      before.id,
      after.id,
    ]);
  });

  it('delivers what others stored while its fan-out connection was down, once and in order', async () => {
    const keyPrefix = 'gap:';
    const a = open(keyPrefix);
    const b = open(keyPrefix);
    const seen: string[] = [];
    b.subscribe((x) => seen.push(x.id));
    await b.whenReady();
    logged.length = 0;
    const first = await a.append(alarm('first'));
    await expect.poll(() => seen).toEqual([first.id]);
    // Cut every fan-out connection; the appends below land before they can reconnect (>= 100 ms).
    const killer = new Redis(redis.url());
    const clients = (await killer.call('CLIENT', 'LIST')) as string;
    const fanout = [...clients.matchAll(/^id=(\d+) .*name=tocsin-fanout /gm)].map((m) => m[1] as string);
    expect(fanout.length).toBeGreaterThanOrEqual(2);
    for (const id of fanout) await killer.call('CLIENT', 'KILL', 'ID', id);
    killer.disconnect();
    const during = await Promise.all([1, 2, 3].map((i) => a.append(alarm(`during ${i}`))));
    const ids = [first, ...during].map((x) => x.id);
    await expect.poll(() => seen, { timeout: 15_000 }).toEqual(ids);
    // The tail really was cut and resumed from its cursor (not merely never interrupted).
    expect(logged).toContain('fan-out from Redis interrupted; resuming from the cursor');
    expect(logged).toContain('fan-out from Redis resumed');
  });

  it('counts a Redis that stops answering as down after a deadline, and recovers when it answers again', async () => {
    const store = open('hang:');
    const before = await store.append(alarm('before'));
    redis.pause();
    try {
      // Not pending forever: the connection is dropped past the deadline and the append refused.
      await expect(store.append(alarm('unanswered'))).rejects.toMatchObject({ code: 'unavailable' });
      expect(store.health()).toMatchObject({ ready: false });
      expect(logged).toContain('Redis stopped answering; reconnecting');
    } finally {
      redis.resume();
    }
    await expect.poll(() => store.health().ready, { timeout: 15_000 }).toBe(true);
    const after = await store.append(alarm('after'));
    // (The unanswered append may or may not have been stored: its publisher got a 503 either way.)
    const ids = (await store.read(null, { user: 'x', topics: ['ops'] }, 10)).map((x) => x.id);
    expect(ids[0]).toBe(before.id);
    expect(ids.at(-1)).toBe(after.id);
  });

  it('does not take its own stalled event loop for a Redis that stopped answering', async () => {
    const warnings: string[] = [];
    const store = new RedisStore({
      url: redis.url(),
      retention: roomy,
      keyPrefix: 'stall:',
      log: { ...log, warn: (_: object, message: string) => warnings.push(message) },
      // Long enough for a loaded CI machine's Redis (an fsync per append) to answer in.
      commandDeadlineMs: 1_000,
    });
    stores.push(store);
    await store.append(alarm('warm-up'));
    const pending = store.append(alarm('behind a stall'));
    // The batch is built in an immediate and ioredis writes it from the next one (auto-pipelining):
    // two turns later it is on the wire. Then the server is busy with other work (a storm's burst)
    // for longer than the deadline while Redis answers.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const until = performance.now() + 1_500;
    while (performance.now() < until) {
      // busy: nothing else runs, not even the deadline's timer
    }
    await expect(pending).resolves.toMatchObject({ title: 'behind a stall' });
    expect(warnings).not.toContain('Redis stopped answering; reconnecting');
    expect(store.health()).toMatchObject({ ready: true });
  });

  it('still drops a silent Redis while its own event loop keeps lagging', async () => {
    const store = new RedisStore({
      url: redis.url(),
      retention: roomy,
      keyPrefix: 'lagging:',
      log,
      commandDeadlineMs: 200,
    });
    stores.push(store);
    await store.append(alarm('warm-up'));
    // Every timer fires late: the loop is busy 150 ms out of every 160.
    const lag = setInterval(() => {
      const until = performance.now() + 150;
      while (performance.now() < until) {
        // busy
      }
    }, 10);
    redis.pause();
    const started = performance.now();
    try {
      await expect(store.append(alarm('unanswered'))).rejects.toMatchObject({ code: 'unavailable' });
      // A few deadlines, not as long as the lag lasts.
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      clearInterval(lag);
      redis.resume();
    }
    await expect.poll(() => store.health().ready, { timeout: 15_000 }).toBe(true);
  });

  it('starts while Redis is down: not ready and refusing, then ready once Redis is up', async () => {
    await redis.stop('SIGTERM');
    const store = open('late:');
    await expect(store.append(alarm('too early'))).rejects.toMatchObject({ code: 'unavailable' });
    expect(store.health()).toMatchObject({ ready: false });
    await redis.start();
    await expect.poll(() => store.health().ready, { timeout: 15_000 }).toBe(true);
    const stored = await store.append(alarm('on time'));
    expect(await store.read(null, { user: 'x', topics: ['ops'] }, 10)).toEqual([stored]);
  });
});
