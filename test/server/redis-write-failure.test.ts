import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = redisUnavailable();
if (skip !== null) console.warn(`Redis write-failure test skipped: ${skip}`);

describe.skipIf(skip !== null)('a Redis that refuses writes (out of memory)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let server: TestServer | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url());
  });
  afterAll(async () => {
    await server?.dispose();
    admin?.disconnect();
    await redis?.dispose();
  });

  const health = async () => {
    const response = await fetch(`${(server as TestServer).url}/healthz`);
    return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
  };
  const publish = (title: string) =>
    fetch(`${(server as TestServer).url}/v1/alarms`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(server as TestServer).adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ title, topic: 'ops' }),
    });

  it('healthz reports it, the log says so once, and both see the recovery', async () => {
    server = await startTestServer({ redisUrl: redis.url() });
    expect((await publish('before')).status).toBe(201);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      for (let i = 0; i < 3; i++) expect((await publish(`refused ${i}`)).status).toBe(503);
      const down = await health();
      expect(down.status).toBe(503);
      expect(down.body.reason).toMatch(/cannot write/);
      expect(down.body.reason).toMatch(/OOM/);
      const errors = server.logs.filter((l) => l.msg.startsWith('the store cannot write'));
      expect(errors).toHaveLength(1);
      expect(errors[0]?.level).toBe(50);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // No alarm needed: health checks probe with a small write until one succeeds.
    await expect
      .poll(health, { timeout: 10_000, interval: 200 })
      .toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(server.logs.filter((l) => l.msg === 'the store can write again')).toHaveLength(1);
    expect((await publish('after')).status).toBe(201);
  }, 60_000);
});
