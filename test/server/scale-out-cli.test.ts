import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runServerCli, type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type RedisServer, redisUnavailable, startRedis } from '../helpers/redis.ts';

const skip = redisUnavailable();

describe.skipIf(skip !== null)('tocsin-server with --redis-url', () => {
  let redis: RedisServer;
  let dataDir: string;
  let proc: ServerProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-cli-redis-'));
  });
  afterEach(async () => {
    await proc?.kill('SIGTERM');
    proc = undefined;
  });
  afterAll(async () => {
    await redis?.dispose();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('serve: the first admin token is minted once per Redis, not per instance or data dir', async () => {
    const url = redis.url(1);
    proc = await spawnServer(dataDir, ['--redis-url', url]);
    expect(proc.adminToken).toMatch(/^tcs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const health = await (await fetch(`${proc.url}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', store: 'redis' });
    await proc.kill('SIGTERM');
    // Another instance with a fresh data dir: the tokens are in Redis already.
    const otherDir = await mkdtemp(join(tmpdir(), 'tocsin-cli-redis-'));
    try {
      proc = await spawnServer(otherDir, ['--redis-url', url]);
      expect(proc.adminToken).toBeUndefined();
      // (Printed right after the line spawnServer waits for: it may come in a later chunk.)
      await expect.poll(() => proc?.stdout).toContain(`token create --redis-url ${url} --user NAME`);
    } finally {
      await proc.kill('SIGTERM');
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('token create/list/revoke work on the tokens in Redis, which a running instance sees within a second', async () => {
    const url = redis.url(2);
    const created = await runServerCli([
      'token',
      'create',
      '--redis-url',
      url,
      '--user',
      'alice',
      '--scope',
      'subscribe',
      '--topics',
      'ops,db',
    ]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^tcs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const id = token.split('_')[1] as string;

    const listed = await runServerCli(['token', 'list', '--redis-url', url]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\talice\\tsubscribe\\tops,db\\t\\S+\\tactive$`, 'm'));
    expect(listed.stdout).not.toContain(token.split('_')[2]);
    // Not in the SQLite file of the data dir: that is another store.
    const sqliteList = await runServerCli(['token', 'list', '--data-dir', dataDir]);
    expect(sqliteList.stdout).not.toContain(id);

    proc = await spawnServer(dataDir, ['--redis-url', url]);
    const me = () => fetch(`${proc?.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await (await me()).json()).toMatchObject({
      user: 'alice',
      scope: 'subscribe',
      topics: ['ops', 'db'],
    });

    const revoked = await runServerCli(['token', 'revoke', id, '--redis-url', url]);
    expect(revoked.code).toBe(0);
    // Revoked by another process: seen within the revocation poll (1 s), as by every instance.
    await expect.poll(async () => (await me()).status, { timeout: 3_000, interval: 100 }).toBe(401);
    expect((await runServerCli(['token', 'revoke', id, '--redis-url', url])).code).toBe(1);
  });

  it('a bad or unreachable Redis URL is a clear message and a non-zero exit, not a hang', async () => {
    const bad = await runServerCli(['token', 'list', '--redis-url', 'http://127.0.0.1:6379']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/redisUrl: use a redis:\/\/ or rediss:\/\/ URL/);
    const servedBad = await runServerCli(['serve', '--port', '0', '--redis-url', 'not a url']);
    expect(servedBad.code).toBe(2);

    // A port where nothing listens (the private server stopped for this).
    await redis.stop('SIGTERM');
    try {
      const down = await runServerCli(['token', 'list', '--redis-url', redis.url()]);
      expect(down.code).toBe(1);
      expect(down.stderr).toContain(`cannot reach Redis at 127.0.0.1:${redis.port}`);
      const serve = await runServerCli([
        'serve',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--redis-url',
        redis.url(),
      ]);
      expect(serve.code).toBe(1);
      expect(serve.stderr).toContain(`cannot reach Redis at 127.0.0.1:${redis.port}`);
    } finally {
      await redis.start();
    }
  });
});
