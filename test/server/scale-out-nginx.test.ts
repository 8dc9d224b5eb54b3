import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NGINX_PATH, nginxUnavailable } from '../helpers/nginx.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawStream } from '../helpers/sse-client.ts';

const skip = redisUnavailable() ?? nginxUnavailable();
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The nginx example of the README's "Running several instances" section, as users copy it. */
async function readmeNginxExample(): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const section = /<!-- scale-out:start -->([\s\S]*?)<!-- scale-out:end -->/.exec(readme)?.[1] ?? '';
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('the README scale-out section has no nginx example');
  return block;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

describe.skipIf(skip !== null)('the README’s nginx example: two instances behind an upstream', () => {
  let redis: RedisServer | undefined;
  const servers: TestServer[] = [];
  let nginx: ChildProcess | undefined;
  let dir: string | undefined;

  afterAll(async () => {
    if (nginx !== undefined && nginx.exitCode === null) {
      const exited = once(nginx, 'exit');
      nginx.kill('SIGTERM');
      await exited;
    }
    await Promise.all(servers.map((s) => s.dispose()));
    await redis?.dispose();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('serves streams and publishes through the balancer, and moves a client when its instance stops', async () => {
    redis = await startRedis();
    const a = await startTestServer({ redisUrl: redis.url(), trustProxy: true });
    const b = await startTestServer({ redisUrl: redis.url(), trustProxy: true });
    servers.push(a, b);

    // The README block, verbatim but for the ports, inside the http{} context nginx.conf gives it.
    dir = await mkdtemp(join(tmpdir(), 'tocsin-nginx-upstream-'));
    const port = await freePort();
    const example = (await readmeNginxExample())
      .replace('127.0.0.1:8081', new URL(a.url).host)
      .replace('127.0.0.1:8082', new URL(b.url).host)
      .replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`);
    expect(example).toContain(`listen 127.0.0.1:${port};`);
    const conf = `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${example}
}`;
    await writeFile(join(dir, 'nginx.conf'), conf);
    const proc = spawn(NGINX_PATH, ['-p', dir, '-c', join(dir, 'nginx.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    nginx = proc;
    let stderr = '';
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const url = `http://127.0.0.1:${port}`;
    await expect
      .poll(
        async () => {
          if (proc.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
          return (await fetch(`${url}/healthz`).catch(() => undefined))?.status;
        },
        { timeout: 10_000 },
      )
      .toBe(200);
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
    expect(stream.retries.at(-1)).toBe(250);
    const missed = await publish('while moving');
    const resumed = await RawStream.open(url, { token, lastEventId: first });
    await resumed.waitForEvent('ready');
    expect(resumed.alarmIds()).toEqual([missed]);
    const live = await publish('live again');
    await resumed.waitForAlarms(2);
    expect(resumed.alarmIds()).toEqual([missed, live]);
    resumed.close();
  }, 30_000);
});
