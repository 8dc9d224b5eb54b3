import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Nginx, nginxUnavailable, startReverseProxy } from '../helpers/nginx.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const skip = nginxUnavailable();

/** The origin story: a stream behind nginx must deliver promptly, stay open, and resume. */
describe.skipIf(skip !== null)('through an nginx reverse proxy with its default proxy settings', () => {
  let server: TestServer;
  let nginx: Nginx;

  beforeAll(async () => {
    // A long heartbeat, so no heartbeat bytes can push alarm frames through a buffer.
    server = await startTestServer({ heartbeatMs: 60_000 });
    nginx = await startReverseProxy(server.url);
  }, 20_000);
  afterAll(async () => {
    await nginx?.stop();
    await server?.dispose();
  });

  it('delivers each alarm at once, not when a buffer fills or a heartbeat comes', async () => {
    const token = await server.token({ user: 'alice', scope: 'subscribe', topics: ['ops'] });
    const stream = await RawStream.open(nginx.url, { token });
    expect(stream.status).toBe(200);
    await stream.waitForEvent('ready', 3_000);
    for (let i = 1; i <= 3; i++) {
      // Tiny alarms, far below any proxy buffer size, each must arrive on its own.
      await server.publish(server.adminToken, { topic: 'ops', title: `t${i}` });
      await stream.waitForAlarms(i, 3_000);
    }
    stream.close();
  });

  it('passes Last-Event-ID through, so a client resumes behind the proxy', async () => {
    const token = await server.token({ user: 'bob', scope: 'subscribe', topics: ['db'] });
    const a = await server.publish(server.adminToken, { topic: 'db', title: 'a' });
    const b = await server.publish(server.adminToken, { topic: 'db', title: 'b' });
    const stream = await RawStream.open(nginx.url, { token, lastEventId: a.id });
    await stream.waitForEvent('ready', 3_000);
    expect(stream.alarmIds()).toEqual([b.id]);
    stream.close();
  });
});
