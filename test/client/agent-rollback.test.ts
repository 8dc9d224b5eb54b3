import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, TocsinProcess } from '../helpers/client-cli.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';

/**
 * The server's history is rolled back while the agent is away: a data dir restored from an older
 * backup (same store id, ids issued again with other times) or replaced by an empty one. Real
 * server processes on SQLite files, `tocsin listen` as a child process; the agent must show what
 * was published after the restore, and nothing it showed before.
 */

let root: string;
let dataDir: string;
let server: ServerProcess | undefined;
const processes: TocsinProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tocsin-rollback-'));
  dataDir = join(root, 'data');
});

afterEach(async () => {
  for (const p of processes.splice(0)) await p.interrupt();
  await server?.kill();
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

async function serve(port = 0): Promise<ServerProcess> {
  server = await spawnServer(dataDir, ['--heartbeat-ms', '500', '--retry-ms', '50'], port);
  return server;
}

async function publish(token: string, title: string): Promise<{ id: string; time: number }> {
  const url = server?.url ?? '';
  const response = await fetch(`${url}/v1/alarms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic: 'ops', title }),
  });
  if (response.status !== 201) throw new Error(`publish: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; time: number };
}

function listen(url: string, token: string): TocsinProcess {
  const p = new TocsinProcess(
    ['listen', url, '--topics', 'ops', '--since', 'all'],
    cliEnv({ HOME: root, TOCSIN_DATA_DIR: join(root, 'agent'), TOCSIN_TOKEN: token }),
  );
  processes.push(p);
  return p;
}

const titlesOf = (p: TocsinProcess) => p.lines.map((l) => / #ops (.*)$/.exec(l)?.[1]);

async function stopServer(): Promise<void> {
  await server?.kill('SIGTERM');
  server = undefined;
}

describe('store rollback (SQLite)', () => {
  it('a data dir restored from an older backup: the reissued ids are shown, nothing twice', async () => {
    let srv = await serve();
    const port = Number(new URL(srv.url).port);
    const token = srv.adminToken as string;
    await publish(token, 'a1');
    await publish(token, 'a2');
    await stopServer();
    await cp(dataDir, join(root, 'backup'), { recursive: true });

    srv = await serve(port);
    const first = listen(srv.url, token);
    await first.waitForStderr(/tocsin: live/);
    await publish(token, 'a3');
    await publish(token, 'a4');
    await first.waitForLines(4);
    expect(titlesOf(first)).toEqual(['a1', 'a2', 'a3', 'a4']);
    // The laptop sleeps; meanwhile the server is restored from the backup and carries on.
    await first.interrupt();
    await stopServer();
    await rm(dataDir, { recursive: true, force: true });
    await cp(join(root, 'backup'), dataDir, { recursive: true });
    srv = await serve(port);
    const b1 = await publish(token, 'b1');
    await publish(token, 'b2');
    // The restored server issues a3's and a4's ids again.
    expect(b1.id).toBe('3');

    const second = listen(srv.url, token);
    await second.waitForStderr(/tocsin: live/);
    await publish(token, 'sentinel');
    await second.waitForLines(3);
    expect(titlesOf(second)).toEqual(['b1', 'b2', 'sentinel']);
    expect(second.stderr).toMatch(/reset or restored from a backup/);
    expect(second.stderr).toMatch(/2 alarms the server still holds after its reset shown above as history/);
  });

  it('an empty data dir (a new store): what the new server holds is shown, as history', async () => {
    let srv = await serve();
    const port = Number(new URL(srv.url).port);
    const first = listen(srv.url, srv.adminToken as string);
    await first.waitForStderr(/tocsin: live/);
    for (const title of ['a1', 'a2', 'a3']) await publish(srv.adminToken as string, title);
    await first.waitForLines(3);
    await first.interrupt();
    await stopServer();
    await rm(dataDir, { recursive: true, force: true });

    srv = await serve(port);
    // Tokens went with the data: the user signs in with the new server's token.
    const token = srv.adminToken as string;
    await publish(token, 'c1');
    const second = listen(srv.url, token);
    await second.waitForStderr(/tocsin: live/);
    await publish(token, 'sentinel');
    await second.waitForLines(2);
    expect(titlesOf(second)).toEqual(['c1', 'sentinel']);
    expect(second.stderr).toMatch(/reset or restored from a backup/);
  });
});
