import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, SqliteStore } from '../../server/store/sqlite.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const roomy = { maxAgeMs: 3_600_000, maxCount: 1_000_000 };

/** Another process's connection (the `token` CLI, a backup tool) holding SQLite's write lock. */
function holdWriteLock(dataDir: string): { release(): void } {
  const other = new DatabaseSync(join(dataDir, DATABASE_FILE));
  other.exec('BEGIN IMMEDIATE');
  return {
    release() {
      other.exec('COMMIT');
      other.close();
    },
  };
}

const settled = <T>(promise: Promise<T>) => {
  const state = { done: false };
  promise.then(
    () => {
      state.done = true;
    },
    () => {
      state.done = true;
    },
  );
  return state;
};

describe('SQLite store: another process holding the write lock', () => {
  let server: TestServer | undefined;
  let store: SqliteStore | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.dispose();
    await store?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    server = undefined;
    store = undefined;
    dir = undefined;
  });

  const start = async (busyTimeoutMs: number) => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-lock-'));
    store = new SqliteStore({ dataDir: dir, retention: roomy, busyTimeoutMs });
    server = await startTestServer({ dataDir: dir, deps: { store } });
    const token = await server.token({ user: 'ops', scope: 'publish' });
    return { server, token, dir };
  };

  const publish = (s: TestServer, token: string, title: string) =>
    fetch(`${s.url}/v1/alarms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'ops', title }),
    });

  it('keeps serving while a publish waits for the lock, reports it in /healthz, then stores the alarm', async () => {
    const { server: s, token, dir: dataDir } = await start(60_000);
    const lock = holdWriteLock(dataDir);
    const pending = publish(s, token, 'waits for the lock');
    const state = settled(pending);
    // The event loop is free: health answers while the publish is still waiting, and says why.
    await expect
      .poll(
        async () => {
          const health = await fetch(`${s.url}/healthz`);
          return { status: health.status, body: await health.json() };
        },
        { timeout: 30_000, interval: 100 },
      )
      .toMatchObject({ status: 503, body: { reason: expect.stringMatching(/locked by another process/) } });
    expect(state.done).toBe(false);
    lock.release();
    const response = await pending;
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const history = await fetch(`${s.url}/v1/alarms?topics=ops`, {
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(((await history.json()) as { alarms: { id: string }[] }).alarms.map((a) => a.id)).toContain(id);
  });

  it('refuses with 503 once the lock outlasts the busy timeout, and stores nothing of it', async () => {
    const { server: s, token, dir: dataDir } = await start(500);
    const lock = holdWriteLock(dataDir);
    const refused = await publish(s, token, 'never stored');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    lock.release();
    const sentinel = await publish(s, token, 'sentinel');
    expect(sentinel.status).toBe(201);
    const history = await fetch(`${s.url}/v1/alarms?topics=ops`, {
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    const titles = ((await history.json()) as { alarms: { title: string }[] }).alarms.map((a) => a.title);
    expect(titles).toEqual(['sentinel']);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });
});
