import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { leasedRedisRateStore, leaseSize } from '../../server/rate-limit-store.ts';
import { MemoryStreamSlots, RedisStreamSlots, type StreamSlots } from '../../server/stream-slots.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const skip = redisUnavailable();

describe('stream slots in memory (one instance)', () => {
  it('caps a token, lets a client take its own slot over, and frees a slot on release', async () => {
    const slots = new MemoryStreamSlots(2);
    expect(await slots.acquire('t1', 's:a')).toBe(true);
    expect(await slots.acquire('t1', 'c:laptop')).toBe(true);
    expect(await slots.acquire('t1', 's:b')).toBe(false);
    // Another token has its own budget.
    expect(await slots.acquire('t2', 's:a')).toBe(true);
    // The same client reconnecting before its old stream closed: a takeover, not a third slot.
    expect(await slots.acquire('t1', 'c:laptop')).toBe(true);
    await slots.release('t1', 'c:laptop'); // the old stream closes
    expect(await slots.count('t1')).toBe(2);
    expect(await slots.acquire('t1', 's:b')).toBe(false);
    await slots.release('t1', 'c:laptop'); // the new one closes
    expect(await slots.acquire('t1', 's:b')).toBe(true);
  });
});

describe.skipIf(skip !== null)('limits shared by instances through Redis', () => {
  let redis: RedisServer;
  let db = 0;
  const servers: TestServer[] = [];
  const connections: Redis[] = [];
  const slotSets: StreamSlots[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(slotSets.splice(0).map((s) => s.close()));
    for (const c of connections.splice(0)) c.disconnect();
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  /** One instance's view of the slots: its own connection, as each server process has. */
  async function instance(url: string, max: number, ttlMs = 30_000): Promise<RedisStreamSlots> {
    const connection = new Redis(url, { lazyConnect: true });
    await connection.connect();
    connections.push(connection);
    const slots = new RedisStreamSlots({ redis: connection, max, ttlMs });
    slotSets.push(slots);
    return slots;
  }

  it('counts one publish budget per token across two instances', async () => {
    const redisUrl = redis.url(++db);
    const options = { redisUrl, publishRateLimit: { max: 3, windowMs: 60_000 } };
    const a = await startTestServer(options);
    const b = await startTestServer(options);
    servers.push(a, b);
    const token = await a.token({ user: 'ops', scope: 'publish' });
    const other = await a.token({ user: 'ops', scope: 'publish' });
    const post = (via: TestServer, t: string, title: string) =>
      fetch(`${via.url}/v1/alarms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'ops', title }),
      });
    expect((await post(a, token, 'one')).status).toBe(201);
    expect((await post(b, token, 'two')).status).toBe(201);
    expect((await post(a, token, 'three')).status).toBe(201);
    // Per instance it would be its 2nd; across both it is the 4th.
    const limited = await post(b, token, 'four');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).not.toBeNull();
    expect((await post(a, token, 'five')).status).toBe(429);
    // Budgets are per token: another token still publishes, on either instance.
    expect((await post(b, other, 'sentinel')).status).toBe(201);
  });

  it('takes publish counts from Redis in slices: never over the limit, few round trips, little lost', async () => {
    const url = redis.url(++db);
    const max = 1_000;
    const windowMs = 60_000;
    const instances = await Promise.all(
      ['a', 'b'].map(async () => {
        const connection = new Redis(url, { lazyConnect: true });
        await connection.connect();
        connections.push(connection);
        const Store = leasedRedisRateStore(connection, 'test:rate:');
        // Counts the round trips this instance makes to Redis.
        const commands = connection as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
        const take = commands.tocsinRateTake?.bind(connection) as (...a: unknown[]) => Promise<unknown>;
        const counter = { trips: 0 };
        commands.tocsinRateTake = (...args: unknown[]) => {
          counter.trips++;
          return take(...args);
        };
        return { store: new Store({}), counter };
      }),
    );
    const incr = (i: number) =>
      new Promise<number>((resolve, reject) =>
        instances[i % 2]?.store.incr(
          'token-1',
          (error, result) => (error ? reject(error) : resolve(result?.current ?? Number.NaN)),
          windowMs,
          max,
        ),
      );
    // 1,300 requests, alternating between the instances, in bursts of 50 per loop turn.
    const counts: number[] = [];
    for (let burst = 0; burst < 26; burst++) {
      counts.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => incr(burst * 50 + i)))));
    }
    const allowed = counts.filter((c) => c <= max).length;
    expect(new Set(counts).size).toBe(counts.length); // each count handed out once
    expect(allowed).toBeLessThanOrEqual(max);
    // What the instances took and did not hand out: at most one slice each.
    expect(allowed).toBeGreaterThanOrEqual(max - 2 * leaseSize(max));
    const trips = instances.reduce((n, i) => n + i.counter.trips, 0);
    expect(trips).toBeLessThan(counts.length / 5);
  });

  it('caps streams per token across instances; a client takes its slot over on another instance', async () => {
    const url = redis.url(++db);
    const a = await instance(url, 2);
    const b = await instance(url, 2);
    expect(await a.acquire('t1', 's:one')).toBe(true);
    expect(await b.acquire('t1', 'c:laptop')).toBe(true);
    expect(await a.acquire('t1', 's:three')).toBe(false);
    expect(await b.acquire('t1', 's:three')).toBe(false);
    expect(await a.acquire('t2', 's:one')).toBe(true);
    // The laptop reconnects through A while its old stream on B is still open: same slot.
    expect(await a.acquire('t1', 'c:laptop')).toBe(true);
    expect(await a.count('t1')).toBe(2);
    // B's old stream closes: it no longer owns the slot, so A's stream keeps it.
    await b.release('t1', 'c:laptop');
    expect(await b.acquire('t1', 's:three')).toBe(false);
    // A stream closing frees its slot for any instance.
    await a.release('t1', 's:one');
    expect(await b.acquire('t1', 's:three')).toBe(true);
    expect(await a.count('t1')).toBe(2);
  });

  it('frees the slots of an instance that died without closing them', async () => {
    const url = redis.url(++db);
    const ttlMs = 1_500;
    // Another instance in its own process, killed with SIGKILL while it holds the token's only slot.
    const code = `
      import { Redis } from 'ioredis';
      import { RedisStreamSlots } from ${JSON.stringify(`${ROOT}server/stream-slots.ts`)};
      const redis = new Redis(${JSON.stringify(url)});
      const slots = new RedisStreamSlots({ redis, max: 1, ttlMs: ${ttlMs} });
      if (!(await slots.acquire('t1', 's:dying'))) process.exit(3);
      console.log('held');
      setInterval(() => {}, 1_000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    await expect.poll(() => out, { timeout: 20_000 }).toContain('held');
    const survivor = await instance(url, 1, ttlMs);
    // While it lives it refreshes its slot, well past the ttl.
    for (let i = 0; i < 3; i++) {
      expect(await survivor.acquire('t1', 's:new')).toBe(false);
      await new Promise((r) => setTimeout(r, ttlMs));
    }
    child.kill('SIGKILL');
    await once(child, 'exit');
    await expect.poll(() => survivor.acquire('t1', 's:new'), { timeout: 20_000, interval: 200 }).toBe(true);
  });

  it('gives this instance’s slots back when it closes', async () => {
    const url = redis.url(++db);
    const a = await instance(url, 1);
    const b = await instance(url, 1);
    expect(await a.acquire('t1', 's:a')).toBe(true);
    expect(await b.acquire('t1', 's:b')).toBe(false);
    await a.close();
    expect(await b.acquire('t1', 's:b')).toBe(true);
  });
});

describe.skipIf(skip !== null)('the stream cap in scale-out mode', () => {
  it('caps streams per token across two instances; a client takes its own slot over', async () => {
    const redis = await startRedis();
    const a = await startTestServer({ redisUrl: redis.url(1), maxStreamsPerToken: 2 });
    const b = await startTestServer({ redisUrl: redis.url(1), maxStreamsPerToken: 2 });
    try {
      const token = await a.token({ user: 'u', scope: 'subscribe', topics: ['ops'] });
      const s1 = await RawStream.open(a.url, { token, topics: ['ops'] });
      const s2 = await RawStream.open(b.url, {
        token,
        topics: ['ops'],
        headers: { 'x-tocsin-client': 'laptop-0001' },
      });
      expect([s1.status, s2.status]).toEqual([200, 200]);
      expect((await RawStream.open(a.url, { token, topics: ['ops'] })).status).toBe(429);
      const s4 = await RawStream.open(a.url, {
        token,
        topics: ['ops'],
        headers: { 'x-tocsin-client': 'laptop-0001' },
      });
      expect(s4.status).toBe(200);
      s1.close();
      await expect
        .poll(
          async () => {
            const s = await RawStream.open(b.url, { token, topics: ['ops'] });
            s.close();
            return s.status;
          },
          { timeout: 10_000 },
        )
        .toBe(200);
      s2.close();
      s4.close();
    } finally {
      await a.dispose();
      await b.dispose();
      await redis.dispose();
    }
  });
});
