import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../server/paths.ts';
import { runServerCli, type ServerProcess, spawnServer } from '../helpers/process.ts';

let dataDir: string;
let proc: ServerProcess | undefined;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  proc = undefined;
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe('tocsin-server CLI', () => {
  it('serve: prints the listening line, and the first admin token once per data dir', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-cli-'));
    proc = await spawnServer(dataDir);
    expect(proc.stdout.split('\n')[0]).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(proc.adminToken).toMatch(/^tcs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(proc.stdout).toContain(`curl -N -H "Authorization: Bearer ${proc.adminToken}"`);
    const me = await fetch(`${proc.url}/v1/me`, { headers: { authorization: `Bearer ${proc.adminToken}` } });
    expect(await me.json()).toMatchObject({ user: 'admin', scope: 'admin' });
    await proc.kill('SIGTERM');
    proc = await spawnServer(dataDir);
    expect(proc.adminToken).toBeUndefined();
    expect(proc.stdout).toContain('$TOCSIN_TOKEN');
  });

  it('token create prints the token alone; list shows it without the secret; revoke ends it', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-cli-'));
    const created = await runServerCli([
      'token',
      'create',
      '--data-dir',
      dataDir,
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
    expect(created.stdout).toBe(`${token}\n`);
    const id = token.split('_')[1] as string;

    const listed = await runServerCli(['token', 'list', '--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\talice\\tsubscribe\\tops,db\\t\\S+\\tactive$`, 'm'));
    expect(listed.stdout).not.toContain(token.split('_')[2]);

    // The running server sees tokens created by the CLI (same SQLite file, another process).
    proc = await spawnServer(dataDir);
    const me = await fetch(`${proc.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);

    const revoked = await runServerCli(['token', 'revoke', id, '--data-dir', dataDir]);
    expect(revoked.code).toBe(0);
    // Another process revoked it: the server's token cache sees it within the revocation poll (1 s).
    const url = proc.url;
    await expect
      .poll(
        async () => (await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status,
        {
          timeout: 3_000,
          interval: 100,
        },
      )
      .toBe(401);
    expect((await runServerCli(['token', 'revoke', id, '--data-dir', dataDir])).code).toBe(1);
  });

  it.each([
    [['token', 'create', '--user', 'a b', '--scope', 'admin'], /--user NAME/],
    [['token', 'create', '--user', 'a', '--scope', 'root'], /--scope must be one of/],
    [['token', 'create', '--user', 'a', '--scope', 'admin', '--topics', 'ok,no/pe'], /invalid topic/],
    [['serve', '--port', 'eighty'], /--port must be a whole number/],
    [['serve', '--port', '99999'], /invalid server configuration: port/],
    [['serve', '--bogus'], /Unknown option/],
    [['launch'], /unknown command "launch"/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-cli-'));
    const result = await runServerCli([...args, '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('puts the default data dir where each OS keeps user data', () => {
    expect(defaultDataDir('linux', {}, '/home/u')).toBe('/home/u/.local/share/tocsin/server');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: '/x' }, '/home/u')).toBe('/x/tocsin/server');
    expect(defaultDataDir('darwin', {}, '/Users/u')).toBe(
      '/Users/u/Library/Application Support/Tocsin/server',
    );
    expect(defaultDataDir('win32', { APPDATA: 'C:\\AD' }, 'C:\\u')).toMatch(/AD.Tocsin.server$/);
  });
});
