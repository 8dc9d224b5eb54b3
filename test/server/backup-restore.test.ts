// The backup and restore procedure of docs/operations.md against a live server process: an online
// backup (VACUUM INTO, as documented) while the server runs, more alarms, a stop, the file replaced
// and its -wal/-shm removed, a start. A client whose cursor is newer than the restored history gets
// a `gap` (reason unknown) and then everything the restored store holds.
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CURSOR_TIME_HEADER } from '../../protocol/index.ts';
import { runNode, type ServerProcess, spawnServer } from '../helpers/process.ts';
import { RawStream } from '../helpers/sse-client.ts';

let dir: string;
let server: ServerProcess | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-restore-'));
});
// Each test's server goes with it: a later test replaces `server`, and one left running outlives the run.
afterEach(async () => {
  await server?.kill();
  server = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let lastTime = 0;
async function publish(url: string, token: string, title: string): Promise<string> {
  const response = await fetch(`${url}/v1/alarms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'alice', title }),
  });
  expect(response.status).toBe(201);
  const stored = (await response.json()) as { id: string; time: number };
  lastTime = stored.time;
  return stored.id;
}

/** The documented procedure up to the start; `bump` is its step 3 (move the id sequence on). */
let runs = 0;
async function backupThenRestore(bump: boolean) {
  runs += 1;
  const data = join(dir, `data-${runs}`);
  const backup = join(dir, `backup-${runs}.sqlite`);
  server = await spawnServer(data);
  const admin = server.adminToken as string;
  const created = await runNode(
    ['server/main.ts', 'token', 'create', '--data-dir', data, '--user', 'alice', '--scope', 'subscribe'],
    {},
  );
  expect(created.code, created.stderr).toBe(0);
  const alice = created.stdout.trim();

  const kept = [];
  for (const title of ['one', 'two', 'three']) kept.push(await publish(server.url, admin, title));
  // Online, while the server runs: the documented VACUUM INTO.
  const live = new DatabaseSync(join(data, 'tocsin.sqlite'));
  live.prepare('VACUUM INTO ?').run(backup);
  live.close();
  const lost = [await publish(server.url, admin, 'four'), await publish(server.url, admin, 'five')];
  const lostTime = lastTime;

  // Restore: stop, replace the file, drop its WAL and shared-memory files, (bump,) start.
  await server.kill('SIGTERM');
  await copyFile(backup, join(data, 'tocsin.sqlite'));
  await rm(join(data, 'tocsin.sqlite-wal'), { force: true });
  await rm(join(data, 'tocsin.sqlite-shm'), { force: true });
  // (tocsin.lock stays: the lock is the OS's, held only while a server runs; the file is harmless.)
  expect((await readdir(data)).sort()).toEqual(['tocsin.lock', 'tocsin.sqlite']);
  if (bump) {
    const db = new DatabaseSync(join(data, 'tocsin.sqlite'));
    db.exec(BUMP_SQL);
    db.close();
  }
  server = await spawnServer(data);
  expect(server.adminToken, 'the restored store still has its tokens').toBeUndefined();
  return { admin, alice, kept, lost, lostTime, url: server.url };
}

/** Step 3 of the restore in docs/operations.md, verbatim. */
const BUMP_SQL = "UPDATE sqlite_sequence SET seq = seq + 1000000 WHERE name = 'alarms'";

describe('restore from an online backup', () => {
  it('answers a cursor from after the backup with a gap, then replays what was restored', async () => {
    const { alice, kept, lost, url } = await backupThenRestore(false);
    const cursor = lost.at(-1) as string;
    const stream = await RawStream.open(url, { token: alice, lastEventId: cursor });
    expect(stream.status).toBe(200);
    await stream.waitForEvent('ready');
    const gap = stream.frames.find((f) => f.event === 'gap');
    expect(gap && JSON.parse(gap.data)).toMatchObject({ reason: 'unknown', after: cursor });
    expect(stream.frames.findIndex((f) => f.event === 'gap')).toBeLessThan(
      stream.frames.findIndex((f) => f.event === 'alarm'),
    );
    expect(stream.alarmIds()).toEqual(kept);
    stream.close();
  });

  it('with the sequence moved on, alarms published after the restore reach a client whose cursor is from before it', async () => {
    const { admin, alice, lost, url } = await backupThenRestore(true);
    const cursor = lost.at(-1) as string;
    // Published after the restore, before the client comes back: without step 3 these would
    // reuse the lost alarms' ids, and a client at the newest lost id would skip them silently.
    const fresh = [await publish(url, admin, 'six'), await publish(url, admin, 'seven')];
    expect(fresh.every((id) => Number(id) > Number(cursor))).toBe(true);
    const stream = await RawStream.open(url, { token: alice, lastEventId: cursor });
    await stream.waitForEvent('ready');
    expect(stream.alarmIds()).toEqual(fresh);
    stream.close();
  });

  it('without it, a client that sends its cursor time (the agent) still gets a gap, then everything', async () => {
    const { admin, alice, kept, lost, lostTime, url } = await backupThenRestore(false);
    const cursor = lost.at(-1) as string;
    const fresh = [await publish(url, admin, 'six'), await publish(url, admin, 'seven')];
    expect(fresh).toEqual(lost); // the lost ids, issued again
    const stream = await RawStream.open(url, {
      token: alice,
      lastEventId: cursor,
      headers: { [CURSOR_TIME_HEADER]: String(lostTime) },
    });
    await stream.waitForEvent('ready');
    const gap = stream.frames.find((f) => f.event === 'gap');
    expect(gap && JSON.parse(gap.data)).toMatchObject({ reason: 'unknown', after: cursor });
    expect(stream.alarmIds()).toEqual([...kept, ...fresh]);
    stream.close();
  });

  it('is the procedure docs/operations.md documents', async () => {
    const page = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    expect(page).toContain(BUMP_SQL);
    expect(page).toMatch(/VACUUM INTO/);
    expect(page).toMatch(/delete `tocsin\.sqlite-wal` and `tocsin\.sqlite-shm`/);
  });
});
