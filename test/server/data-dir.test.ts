import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type TocsinServer } from '../../server/app.ts';
import { DataDirLockError } from '../../server/store/data-dir-lock.ts';
import { forkServer } from '../desktop/fork-server.ts';
import { runServerCli, type ServerProcess, spawnServer } from '../helpers/process.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let dataDir: string | undefined;
const procs: ServerProcess[] = [];
const servers: TocsinServer[] = [];
let test: TestServer | undefined;
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill('SIGKILL');
  for (const s of servers.splice(0)) await s.close();
  await test?.dispose();
  test = undefined;
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe('the SQLite data dir lock', () => {
  it('a second server on the same data dir refuses to start with a clear message and exit code 3', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-lock-'));
    const first = await spawnServer(dataDir);
    procs.push(first);
    const second = await runServerCli(['serve', '--port', '0', '--data-dir', dataDir]);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`another tocsin-server (pid ${first.child.pid}) is using the data dir`);
    expect(second.stdout).not.toContain('listening on');
    // The first server is unharmed.
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('token commands keep working alongside the running server', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-lock-'));
    const server = await spawnServer(dataDir);
    procs.push(server);
    const created = await runServerCli([
      'token',
      'create',
      '--data-dir',
      dataDir,
      '--user',
      'bob',
      '--scope',
      'subscribe',
    ]);
    expect(created.code).toBe(0);
    const me = await fetch(`${server.url}/v1/me`, {
      headers: { authorization: `Bearer ${created.stdout.trim()}` },
    });
    expect(me.status).toBe(200);
    expect((await runServerCli(['token', 'list', '--data-dir', dataDir])).code).toBe(0);
  });

  it('after kill -9 the lock is free at once, and the restart reports the unclean shutdown', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-lock-'));
    const first = await spawnServer(dataDir);
    const firstPid = first.child.pid;
    await first.kill('SIGKILL');
    const second = await spawnServer(dataDir);
    procs.push(second);
    // The log line travels on stderr, the listening line on stdout: either may arrive first.
    await expect.poll(() => second.stderr, { timeout: 10_000 }).toContain('did not shut down cleanly');
    expect(second.stderr).toContain(`"previousPid":${firstPid}`);
    // A clean stop leaves nothing to report.
    await second.kill('SIGTERM');
    const third = await spawnServer(dataDir);
    procs.push(third);
    expect(third.stderr).not.toContain('did not shut down cleanly');
  });

  it("the desktop app's embedded server reports data-dir-locked to the app instead of crashing", async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-lock-'));
    procs.push(await spawnServer(dataDir));
    const child = forkServer()({ host: '127.0.0.1', port: 0, dataDir, user: 'me' });
    const messages: unknown[] = [];
    child.onMessage((message) => messages.push(message));
    const code = await new Promise<number | null>((resolve) => child.onExit(resolve));
    expect(code).toBe(1);
    expect(messages).toEqual([
      { type: 'failed', code: 'data-dir-locked', message: expect.stringContaining('another tocsin-server') },
    ]);
  });

  it('in one process: the second createServer throws data-dir-locked until the first closes', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-lock-'));
    const first = createServer({ dataDir, port: 0, logLevel: 'silent' });
    servers.push(first);
    let error: unknown;
    try {
      servers.push(createServer({ dataDir, port: 0, logLevel: 'silent' }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DataDirLockError);
    expect((error as DataDirLockError).code).toBe('data-dir-locked');
    await servers.pop()?.close();
    servers.push(createServer({ dataDir, port: 0, logLevel: 'silent' }));
  });
});

describe('data dir permissions', () => {
  it('creates the dir 0700 and every SQLite file 0600', async () => {
    test = await startTestServer();
    await test.publish(test.adminToken, { title: 'x', user: 'admin' });
    expect(await modeOf(test.dataDir)).toBe('700');
    const files = (await readdir(test.dataDir)).filter((f) => f.startsWith('tocsin.'));
    expect(files).toEqual(expect.arrayContaining(['tocsin.sqlite', 'tocsin.sqlite-wal', 'tocsin.lock']));
    for (const file of files) expect([file, await modeOf(join(test.dataDir, file))]).toEqual([file, '600']);
  });

  it('tightens an existing loose data dir at start, with a log line per file', async () => {
    test = await startTestServer();
    await test.publish(test.adminToken, { title: 'x', user: 'admin' });
    await test.stop();
    await chmod(test.dataDir, 0o755);
    await chmod(join(test.dataDir, 'tocsin.sqlite'), 0o644);
    await test.restart();
    expect(await modeOf(test.dataDir)).toBe('700');
    expect(await modeOf(join(test.dataDir, 'tocsin.sqlite'))).toBe('600');
    const lines = test.logs.filter((l) => l.msg.startsWith('tightened permissions'));
    expect(lines.map((l) => [l.path, l.from, l.to])).toEqual([
      [test.dataDir, '755', '700'],
      [join(test.dataDir, 'tocsin.sqlite'), '644', '600'],
    ]);
  });
});
