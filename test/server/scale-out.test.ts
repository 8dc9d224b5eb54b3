import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReadyEvent } from '../../protocol/index.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const skip = redisUnavailable();

/** Several Tocsin instances sharing one Redis: one history, one fan-out, one set of tokens. */
describe.skipIf(skip !== null)('several instances on one Redis', () => {
  let redis: RedisServer;
  let db = 0;
  const servers: TestServer[] = [];
  const streams: RawStream[] = [];

  /** Two instances on their own Redis database (so tests cannot see each other's alarms). */
  async function twoInstances(
    options: Parameters<typeof startTestServer>[0] = {},
  ): Promise<[TestServer, TestServer]> {
    const redisUrl = redis.url(++db);
    const a = await startTestServer({ redisUrl, ...options });
    const b = await startTestServer({ redisUrl, ...options });
    servers.push(a, b);
    return [a, b];
  }
  async function open(url: string, options: Parameters<typeof RawStream.open>[1]): Promise<RawStream> {
    const stream = await RawStream.open(url, options);
    streams.push(stream);
    return stream;
  }

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it('fans an alarm published on either instance out to subscribers on both, exactly once', async () => {
    const [a, b] = await twoInstances();
    const health = await (await fetch(`${a.url}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', store: 'redis' });
    // A token minted through A works on B: tokens live in Redis.
    const token = await a.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const onA = await open(a.url, { token });
    const onB = await open(b.url, { token });
    await onA.waitForEvent('ready');
    await onB.waitForEvent('ready');
    const ready = JSON.parse(onA.frames.find((f) => f.event === 'ready')?.data ?? '{}') as ReadyEvent;
    const readyB = JSON.parse(onB.frames.find((f) => f.event === 'ready')?.data ?? '{}') as ReadyEvent;
    expect(readyB.storeId).toBe(ready.storeId);

    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const via = i % 2 === 0 ? a : b;
      ids.push((await via.publish(a.adminToken, { topic: 'ops', title: `n${i}` })).id);
    }
    // Another user's alarm and another topic's must not arrive.
    await a.publish(a.adminToken, { user: 'bob', title: 'private' });
    await a.publish(a.adminToken, { topic: 'db', title: 'other topic' });
    // A last alarm: once it arrived, any duplicate of an earlier one would have arrived before it.
    ids.push((await b.publish(a.adminToken, { topic: 'ops', title: 'sentinel' })).id);
    await onA.waitForAlarms(ids.length);
    await onB.waitForAlarms(ids.length);
    expect(onA.alarmIds()).toEqual(ids);
    expect(onB.alarmIds()).toEqual(ids);
    expect(ids.every((id) => /^[0-9]+-[0-9]+$/.test(id))).toBe(true);
  });

  it('resumes on another instance with Last-Event-ID: exactly what the client missed', async () => {
    const [a, b] = await twoInstances();
    const token = await a.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const first = await open(a.url, { token });
    await first.waitForEvent('ready');
    const seen = [
      (await a.publish(a.adminToken, { topic: 'ops', title: 'seen 1' })).id,
      (await a.publish(a.adminToken, { topic: 'ops', title: 'seen 2' })).id,
    ];
    await first.waitForAlarms(2);
    first.reset(); // the laptop vanished
    const missed = [
      (await a.publish(a.adminToken, { topic: 'ops', title: 'missed 1' })).id,
      (await b.publish(a.adminToken, { user: 'alice', title: 'missed 2' })).id,
      (await a.publish(a.adminToken, { topic: 'ops', title: 'missed 3' })).id,
    ];
    const resumed = await open(b.url, { token, lastEventId: seen[1] });
    await resumed.waitForEvent('ready');
    expect(resumed.frames.map((f) => f.event)).toEqual(['alarm', 'alarm', 'alarm', 'ready']);
    expect(resumed.alarmIds()).toEqual(missed);
    const ready = JSON.parse(resumed.frames.at(-1)?.data ?? '{}') as ReadyEvent;
    expect(ready.cursor).toBe(missed[2]);
    // And the history endpoint of either instance agrees.
    const history = (await (
      await fetch(`${b.url}/v1/alarms?since=${seen[1]}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { alarms: { id: string }[] };
    expect(history.alarms.map((x) => x.id)).toEqual(missed);
    // An id of the SQLite store (or garbage) is a clear 400, not a crash.
    const wrong = await fetch(`${b.url}/v1/stream`, {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': '42' },
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'bad-last-event-id' });
  });

  it('a graceful shutdown ends streams with a short retry; the client resumes on the other instance', async () => {
    // The production defaults: a 3 s reconnect delay normally, 2 s ±50% when an instance shuts down.
    const [a, b] = await twoInstances({ retryMs: 3_000 });
    const token = await a.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const onA = await open(a.url, { token });
    await onA.waitForEvent('ready');
    const before = (await a.publish(a.adminToken, { topic: 'ops', title: 'before' })).id;
    await onA.waitForAlarms(1);

    await a.stop();
    await onA.waitForEnd();
    expect(onA.retries[0]).toBe(3_000);
    expect(onA.retries[1]).toBeGreaterThanOrEqual(1_000);
    expect(onA.retries[1]).toBeLessThanOrEqual(3_000);

    const during = (await b.publish(b.adminToken, { topic: 'ops', title: 'while moving' })).id;
    const onB = await open(b.url, { token, lastEventId: before });
    await onB.waitForEvent('ready');
    expect(onB.alarmIds()).toEqual([during]);
    const after = (await b.publish(b.adminToken, { topic: 'ops', title: 'after' })).id;
    await onB.waitForAlarms(2);
    expect(onB.alarmIds()).toEqual([during, after]);
  });

  it('shares tokens: one revoked through one instance is refused by the other', async () => {
    const [a, b] = await twoInstances();
    const token = await a.token({ user: 'carol', scope: 'publish', topics: ['ops'] });
    const me = (url: string) => fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me(b.url)).status).toBe(200);
    const id = token.split('_')[1] as string;
    expect((await me(a.url)).status).toBe(200);
    expect(await b.server.context.tokens.revoke(id, Date.now())).toBe(true);
    // The instance it was revoked through refuses it at once; the other within its revocation poll.
    expect((await me(b.url)).status).toBe(401);
    await expect.poll(async () => (await me(a.url)).status, { timeout: 3_000, interval: 50 }).toBe(401);
  });
});
