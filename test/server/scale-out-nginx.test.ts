import { afterAll, describe, expect, it } from 'vitest';
import { type Nginx, nginxUnavailable, startNginx } from '../helpers/nginx.ts';
import { docsNginxBlock } from '../helpers/nginx-docs.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const skip = redisUnavailable() ?? nginxUnavailable();

describe.skipIf(skip !== null)(
  'the nginx example of docs/scale-out.md: two instances behind an upstream',
  () => {
    let redis: RedisServer | undefined;
    const servers: TestServer[] = [];
    let nginx: Nginx | undefined;

    afterAll(async () => {
      await nginx?.stop();
      await Promise.all(servers.map((s) => s.dispose()));
      await redis?.dispose();
    });

    it('serves streams and publishes through the balancer, and moves a client when its instance stops', async () => {
      redis = await startRedis();
      const a = await startTestServer({ redisUrl: redis.url(), trustProxy: true });
      const b = await startTestServer({ redisUrl: redis.url(), trustProxy: true });
      servers.push(a, b);

      // The docs/scale-out.md block, verbatim but for the ports, inside the http{} context nginx.conf gives it.
      const block = await docsNginxBlock('scale-out.md', 'scale-out');
      nginx = await startNginx((port) => {
        const example = block
          .replace('127.0.0.1:8081', new URL(a.url).host)
          .replace('127.0.0.1:8082', new URL(b.url).host)
          .replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`);
        expect(example).toContain(`listen 127.0.0.1:${port};`);
        return example;
      });
      const url = nginx.url;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(404);

      const token = await a.token({ user: 'me', scope: 'subscribe', topics: ['backups'] });
      const stream = await RawStream.open(url, { token });
      await stream.waitForEvent('ready');
      const publish = async (title: string) => {
        const response = await fetch(`${url}/v1/alarms`, {
          method: 'POST',
          headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ topic: 'backups', title }),
        });
        expect(response.status).toBe(201);
        return ((await response.json()) as { id: string }).id;
      };
      const first = await publish('first');
      await stream.waitForAlarms(1);
      expect(stream.alarmIds()).toEqual([first]);

      // Stop whichever instance holds the stream: it ends with a short retry, the client comes back
      // through nginx, lands on the other instance and gets exactly what it missed.
      const holder = a.server.context.registry.size === 1 ? a : b;
      await holder.stop();
      await stream.waitForEnd();
      // The shutdown retry (2 s default) is jittered ±50% per stream so clients come back spread out.
      expect(stream.retries.at(-1)).toBeGreaterThanOrEqual(1_000);
      expect(stream.retries.at(-1)).toBeLessThanOrEqual(3_000);
      const missed = await publish('while moving');
      const resumed = await RawStream.open(url, { token, lastEventId: first });
      await resumed.waitForEvent('ready');
      expect(resumed.alarmIds()).toEqual([missed]);
      const live = await publish('live again');
      await resumed.waitForAlarms(2);
      expect(resumed.alarmIds()).toEqual([missed, live]);
      resumed.close();
    }, 30_000);
  },
);
