import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm, Problem } from '../../protocol/index.ts';
import { curl } from '../helpers/curl.ts';
import { runServerCli } from '../helpers/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** Every way ntfy lets a client present a token: header or ?auth=, Bearer or Basic. */
function presentations(token: string): [string, string[], string][] {
  return [
    ['Bearer', ['-H', `Authorization: Bearer ${token}`], ''],
    ['Basic with an empty user', ['-u', `:${token}`], ''],
    ['Basic with any user name', ['-u', `phil:${token}`], ''],
    ['?auth= (Bearer, no padding, URL alphabet)', [], `auth=${b64url(`Bearer ${token}`)}`],
    ['?auth= (Basic, with padding)', [], `auth=${encodeURIComponent(b64(`Basic ${b64(`:${token}`)}`))}`],
  ];
}

let server: TestServer;
let publisher: string;
let subscriber: string;
beforeAll(async () => {
  server = await startTestServer();
  publisher = await server.token({ user: 'alice', scope: 'publish', topics: ['alerts'] });
  subscriber = await server.token({ user: 'alice', scope: 'subscribe', topics: ['alerts'] });
});
afterAll(async () => {
  await server.dispose();
});

const join2 = (url: string, query: string) =>
  query === '' ? url : `${url}${url.includes('?') ? '&' : '?'}${query}`;

describe('ntfy auth on every route', () => {
  it.each(presentations('TOKEN'))('%s works on every publish and read route', async (_name) => {
    const [, args, query] = presentations(publisher).find(([n]) => n === _name) as [string, string[], string];
    const [, readArgs, readQuery] = presentations(subscriber).find(([n]) => n === _name) as [
      string,
      string[],
      string,
    ];
    const routes: [string[], string, number][] = [
      [['-d', 'put body', '-X', 'PUT'], `${server.url}/alerts`, 200],
      [['-d', 'post body'], `${server.url}/alerts`, 200],
      [[], `${server.url}/alerts/publish?message=get`, 200],
      [['-d', JSON.stringify({ topic: 'alerts', message: 'json' })], `${server.url}/`, 200],
      [
        ['-H', 'content-type: application/json', '-d', '{"topic":"alerts","title":"native"}'],
        `${server.url}/v1/alarms`,
        201,
      ],
    ];
    for (const [extra, url, status] of routes) {
      const result = await curl([...args, ...extra, join2(url, query)]);
      expect(result.status, `${url}: ${result.body}`).toBe(status);
    }
    const read = await curl([...readArgs, join2(`${server.url}/v1/alarms?topics=alerts`, readQuery)]);
    expect(read.status).toBe(200);
    const me = await curl([...readArgs, join2(`${server.url}/v1/me`, readQuery)]);
    expect(me.json()).toMatchObject({ user: 'alice', scope: 'subscribe' });
  });

  it('no credentials, an unknown token, or a malformed ?auth= are 401s', async () => {
    for (const args of [[], ['-H', 'Authorization: Bearer tcs_000000000000_nope'], ['-u', 'phil:wrong']]) {
      const result = await curl([...args, '-d', 'x', `${server.url}/alerts`]);
      expect(result.status).toBe(401);
      expect(result.json<Problem>().code).toBe('unauthorized');
    }
    const bad = await curl(['-d', 'x', `${server.url}/alerts?auth=${encodeURIComponent('not base64!')}`]);
    expect(bad.status).toBe(401);
    // ?auth= takes precedence over the header, as in ntfy.
    const overridden = await curl([
      '-H',
      `Authorization: Bearer ${publisher}`,
      '-d',
      'x',
      `${server.url}/alerts?auth=${b64url('Bearer tcs_000000000000_nope')}`,
    ]);
    expect(overridden.status).toBe(401);
  });

  it('scopes and topic ACLs apply exactly as on the native API', async () => {
    const sub = await curl(['-u', `:${subscriber}`, '-d', 'x', `${server.url}/alerts`]);
    expect(sub.status).toBe(403);
    const otherTopic = await curl(['-u', `:${publisher}`, '-d', 'x', `${server.url}/other`]);
    expect(otherTopic.status).toBe(403);
    const viaJson = await curl([
      '-u',
      `:${publisher}`,
      '-d',
      '{"topic":"other","message":"x"}',
      `${server.url}/`,
    ]);
    expect(viaJson.status).toBe(403);
    const viaGet = await curl([`${server.url}/other/trigger?auth=${b64url(`Bearer ${publisher}`)}`]);
    expect(viaGet.status).toBe(403);
    const history = (await (
      await fetch(`${server.url}/v1/alarms?topics=other`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      })
    ).json()) as { alarms: Alarm[] };
    expect(history.alarms).toEqual([]);
  });
});

describe('least privilege: a publish token that may address some users', () => {
  it('sends to the users and patterns it lists, on both dialects, and to no one else', async () => {
    const service = await server.token({ user: 'monitor', scope: 'publish', recipients: ['ops-*', 'bob'] });
    const plain = await server.token({ user: 'monitor', scope: 'publish' });
    const native = (user: string, token: string) =>
      fetch(`${server.url}/v1/alarms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user, title: `to ${user}` }),
      });
    expect((await native('ops-1', service)).status).toBe(201);
    expect((await native('bob', service)).status).toBe(201);
    expect((await native('monitor', service)).status).toBe(201);
    const denied = await native('carol', service);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as Problem).code).toBe('forbidden');
    expect((await native('bob', plain)).status).toBe(403);

    const ntfyOk = await curl([
      '-u',
      `:${service}`,
      '-H',
      'X-User: ops-db',
      '-d',
      'disk',
      `${server.url}/ops`,
    ]);
    expect(ntfyOk.status).toBe(200);
    const ntfyJson = await curl([
      '-u',
      `:${service}`,
      '-d',
      '{"topic":"ops","user":"bob","message":"j"}',
      `${server.url}/`,
    ]);
    expect(ntfyJson.status).toBe(200);
    const ntfyDenied = await curl(['-u', `:${service}`, '-d', 'x', `${server.url}/ops?user=carol`]);
    expect(ntfyDenied.status).toBe(403);

    // What each user sees: only their own.
    const bobReads = await server.token({ user: 'bob', scope: 'subscribe' });
    const bob = (await (
      await fetch(`${server.url}/v1/alarms`, { headers: { authorization: `Bearer ${bobReads}` } })
    ).json()) as { alarms: Alarm[] };
    expect(bob.alarms.map((a) => a.body ?? a.title)).toEqual(['to bob', 'j']);
    // A publish token cannot read, recipients or not.
    const read = await fetch(`${server.url}/v1/alarms`, { headers: { authorization: `Bearer ${service}` } });
    expect(read.status).toBe(403);
  });
});

describe('token create --recipients', () => {
  let dataDir: string;
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-recipients-'));
    if (redisUnavailable() === null) redis = await startRedis();
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await redis?.dispose();
  });

  it('mints a token that may address the listed users (SQLite and Redis stores)', async () => {
    const stores: string[][] = [['--data-dir', dataDir]];
    if (redis !== undefined) stores.push(['--redis-url', redis.url(3)]);
    for (const where of stores) {
      const created = await runServerCli([
        'token',
        'create',
        '--user',
        'monitor',
        '--scope',
        'publish',
        '--recipients',
        'ops-*,bob',
        ...where,
      ]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toMatch(/recipients ops-\*,bob/);
      const token = created.stdout.trim();
      const running = await startTestServer(
        where[0] === '--data-dir' ? { dataDir } : { redisUrl: where[1] as string },
      );
      try {
        const send = (user: string) =>
          fetch(`${running.url}/v1/alarms`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ user, title: 'x' }),
          });
        expect((await send('ops-web')).status).toBe(201);
        expect((await send('carol')).status).toBe(403);
      } finally {
        await running.stop();
      }
    }
  });

  it('refuses recipients on a subscribe token and malformed patterns', async () => {
    const sub = await runServerCli([
      'token',
      'create',
      '--user',
      'x',
      '--scope',
      'subscribe',
      '--recipients',
      'a',
      '--data-dir',
      dataDir,
    ]);
    expect(sub.code).not.toBe(0);
    expect(sub.stderr).toMatch(/--recipients is for publish tokens/);
    const bad = await runServerCli([
      'token',
      'create',
      '--user',
      'x',
      '--scope',
      'publish',
      '--recipients',
      'a b',
      '--data-dir',
      dataDir,
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid recipient/);
  });
});
