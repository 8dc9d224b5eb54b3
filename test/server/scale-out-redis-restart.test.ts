import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const skip = redisUnavailable();

describe.skipIf(skip !== null)('Redis restarting under two instances', () => {
  let redis: RedisServer;
  const servers: TestServer[] = [];
  const streams: RawStream[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.all(servers.map((s) => s.dispose()));
    await redis?.dispose();
  });

  it('refuses publishes with 503 while Redis is down, keeps streams heartbeating, and loses nothing acknowledged', async () => {
    const a = await startTestServer({ redisUrl: redis.url(), heartbeatMs: 200 });
    const b = await startTestServer({ redisUrl: redis.url(), heartbeatMs: 200 });
    servers.push(a, b);
    const token = await a.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const onA = await RawStream.open(a.url, { token });
    const onB = await RawStream.open(b.url, { token });
    streams.push(onA, onB);
    await onA.waitForEvent('ready');
    await onB.waitForEvent('ready');
    const acked: string[] = [];
    for (let i = 0; i < 5; i++)
      acked.push((await a.publish(a.adminToken, { topic: 'ops', title: `up ${i}` })).id);
    await onA.waitForAlarms(5);
    await onB.waitForAlarms(5);

    // A crash, not a polite shutdown: only what Redis fsynced to its AOF survives.
    await redis.stop('SIGKILL');

    for (const server of [a, b]) {
      await expect
        .poll(async () => (await fetch(`${server.url}/healthz`)).status, { timeout: 10_000 })
        .toBe(503);
      const health = await (await fetch(`${server.url}/healthz`)).json();
      expect(health).toMatchObject({ status: 'unavailable', store: 'redis' });
      const response = await fetch(`${server.url}/v1/alarms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'ops', title: 'while down' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await response.json()).toMatchObject({ status: 503, code: 'unavailable' });
      // The ntfy dialect too: never a 200 for an alarm that was not stored.
      const ntfy = await fetch(`${server.url}/ops`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.adminToken}` },
        body: 'while down',
      });
      expect(ntfy.status).toBe(503);
      // A new stream cannot be served (tokens live in Redis): a clear 503, not a hang.
      const refused = await RawStream.open(server.url, { token });
      expect(refused.status).toBe(503);
      refused.close();
    }

    // The open streams stay open and keep heartbeating meanwhile.
    const heartbeats = [onA.comments, onB.comments];
    await onA.waitFor((s) => s.comments >= (heartbeats[0] as number) + 3, 5_000, 'heartbeats on A');
    await onB.waitFor((s) => s.comments >= (heartbeats[1] as number) + 3, 5_000, 'heartbeats on B');
    expect(onA.ended || onB.ended).toBe(false);

    await redis.start();
    for (const server of [a, b]) {
      await expect
        .poll(async () => (await fetch(`${server.url}/healthz`)).status, { timeout: 15_000 })
        .toBe(200);
    }
    for (let i = 0; i < 5; i++) {
      const via = i % 2 === 0 ? b : a;
      acked.push((await via.publish(a.adminToken, { topic: 'ops', title: `back ${i}` })).id);
    }
    // The last one is a sentinel: any duplicate of an earlier alarm would have arrived before it.
    await onA.waitForAlarms(10, 10_000);
    await onB.waitForAlarms(10, 10_000);
    expect(onA.alarmIds()).toEqual(acked);
    expect(onB.alarmIds()).toEqual(acked);
    expect(onA.ended || onB.ended).toBe(false);

    // Nothing acknowledged before the crash was lost: a fresh client replays all of it.
    const fresh = await RawStream.open(b.url, { token, since: acked[0] });
    streams.push(fresh);
    await fresh.waitForEvent('ready');
    expect(fresh.alarmIds()).toEqual(acked.slice(1));

    // An outage is an operational event (warn, then info), never an error or a 500.
    for (const server of [a, b]) {
      const messages = server.logs.map((l) => l.msg);
      expect(messages).toContain('lost the connection to Redis; publishing is refused until it is back');
      expect(messages).toContain('reconnected to Redis');
      expect(server.logs.filter((l) => l.level >= 50)).toEqual([]);
    }
  }, 60_000);
});
