import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const skip = redisUnavailable();
if (skip !== null) console.warn(`Redis reset test skipped: ${skip}`);

describe.skipIf(skip !== null)('a Redis data reset', () => {
  let redis: RedisServer;
  let server: TestServer | undefined;
  let fresh: TestServer | undefined;
  const streams: RawStream[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await server?.dispose();
    await fresh?.dispose();
    await redis?.dispose();
  });

  it('followed by a new alarm tells a client with an old cursor about the gap', async () => {
    server = await startTestServer({ redisUrl: redis.url() });
    const before = await server.publish(server.adminToken, { topic: 'ops', title: 'before the reset' });

    const admin = new Redis(redis.url());
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    // The reset lost every token too: mint one again in the fresh data.
    const token = await server.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const publisher = await server.token({ user: 'p', scope: 'publish' });
    const after = await server.publish(publisher, { topic: 'ops', title: 'after the reset' });
    expect(server.server.context.store.compareIds(after.id, before.id)).toBeGreaterThan(0);

    // An instance that did not witness the reset (started after it, or restarted) must rely on the
    // store alone: its in-memory window of recent alarms never held the old ones.
    fresh = await startTestServer({ redisUrl: redis.url() });
    const stream = await RawStream.open(fresh.url, { token, topics: ['ops'], lastEventId: before.id });
    streams.push(stream);
    await stream.waitForEvent('ready');
    await stream.waitForAlarms(1);
    const events = stream.frames.map((f) => f.event);
    expect(events).toContain('gap');
    expect(events.indexOf('gap')).toBeLessThan(events.indexOf('alarm'));

    // The instance that witnessed it too: its window of recent alarms still holds the old ones, but
    // the cursor is checked against the store, which alone knows its data was reset.
    const same = await RawStream.open(server.url, { token, topics: ['ops'], lastEventId: before.id });
    streams.push(same);
    await same.waitForEvent('ready');
    expect(same.frames[0]?.event).toBe('gap');
    expect(same.alarmIds()).toEqual([after.id]);
  }, 30_000);
});
