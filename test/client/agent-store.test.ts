import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type AgentWarning } from '../../client/agent.ts';
import { alarmKey, importLegacyCursor, SqliteAgentStore } from '../../client/agent-store.ts';
import { AlarmHistory } from '../../client/history.ts';
import {
  alarmFrame,
  makeAlarm,
  openSse,
  readyFrame,
  startScenarioServer,
} from '../helpers/client-sse-server.ts';
import { waitFor } from '../helpers/client-wait.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-state-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agent state in SQLite', () => {
  it('records position and history together, and survives a new instance (a restart)', () => {
    const path = join(dir, 'nested', 'state.sqlite');
    let store = new SqliteAgentStore(path);
    expect(store.load()).toEqual({ position: null, seen: [], unshown: [] });
    const a = makeAlarm({ id: '41' });
    const b = makeAlarm({ id: '42' });
    store.record(a, 'abc');
    store.markShown(a);
    store.record(b, 'abc');
    store.close();

    store = new SqliteAgentStore(path);
    const loaded = store.load();
    expect(loaded.position).toEqual({ id: '42', time: b.time, storeId: 'abc' });
    expect(loaded.seen).toEqual([alarmKey(a), alarmKey(b)]);
    // 42 was recorded but never shown: the process died in between.
    expect(loaded.unshown).toEqual([b]);
    expect(store.history().map((x) => x.id)).toEqual(['42', '41']);
    store.close();
  });

  it('a burst of writes leaves no temporary files', async () => {
    const path = join(dir, 'state.sqlite');
    const store = new SqliteAgentStore(path);
    for (let i = 1; i <= 300; i++) {
      store.record(makeAlarm({ id: String(i) }), 's');
      store.markShown(makeAlarm({ id: String(i) }));
    }
    store.close();
    // The WAL is checkpointed and removed on close; nothing else is ever created.
    expect(await readdir(dir)).toEqual(['state.sqlite']);
  });

  it('keeps history bounded, oldest forgotten first', () => {
    const store = new SqliteAgentStore(':memory:', { historyLimit: 50 });
    for (let i = 1; i <= 250; i++) store.record(makeAlarm({ id: String(i) }), 's');
    const history = store.history();
    expect(history.length).toBeLessThanOrEqual(150);
    expect(history[0]?.id).toBe('250');
    expect(store.load().seen).toHaveLength(50);
    store.close();
  });

  it('a damaged cursor resumes after the newest alarm in history instead of re-showing everything', () => {
    const path = join(dir, 'state.sqlite');
    let store = new SqliteAgentStore(path);
    for (const id of ['1', '2', '3']) {
      store.record(makeAlarm({ id }), 's');
      store.markShown(makeAlarm({ id }));
    }
    store.close();
    const db = new DatabaseSync(path);
    db.exec("UPDATE position SET id = 'drop table', time = 'x'");
    db.close();

    store = new SqliteAgentStore(path);
    const loaded = store.load();
    expect(loaded.problem?.code).toBe('cursor-corrupt');
    expect(loaded.position).toEqual({ id: '3', time: makeAlarm({ id: '3' }).time, storeId: null });
    expect(loaded.seen).toHaveLength(3);
    store.close();
  });

  it('a file that is not a database is moved aside and a new one started, with one problem', async () => {
    const path = join(dir, 'state.sqlite');
    await writeFile(path, 'this is not a database, it is a text file that got in the way '.repeat(100));
    const store = new SqliteAgentStore(path);
    const loaded = store.load();
    expect(loaded.problem?.code).toBe('state-damaged');
    expect(loaded.position).toBeNull();
    store.record(makeAlarm({ id: '1' }), 's');
    store.close();
    expect((await readdir(dir)).sort()).toEqual([
      'state.sqlite',
      expect.stringMatching(/^state\.sqlite\.damaged-\d+$/),
    ]);
  });

  it('an unusable path: memory only, one problem saying a restart may repeat alarms', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, '');
    const store = new SqliteAgentStore(join(blocker, 'state.sqlite'));
    const loaded = store.load();
    expect(loaded.problem?.code).toBe('state-unwritable');
    store.record(makeAlarm({ id: '1' }), 's');
    expect(store.load().position?.id).toBe('1');
    store.close();
  });
});

describe('upgrading from the cursor file', () => {
  it('imports a legacy cursor once, only into an empty store and only for its own server', async () => {
    const legacy = join(dir, 'cursor.json');
    const write = (server: string) =>
      writeFile(legacy, JSON.stringify({ version: 1, server, id: '41', storeId: 'st', savedAt: 1 }));
    let store = new SqliteAgentStore(':memory:');
    await write('http://other');
    expect(importLegacyCursor(store, legacy, 'http://mine')).toBe(false);
    expect(store.load().position).toBeNull();
    await write('http://mine');
    expect(importLegacyCursor(store, legacy, 'http://mine')).toBe(true);
    expect(store.load().position).toEqual({ id: '41', time: null, storeId: 'st' });
    expect(existsSync(legacy)).toBe(false);
    store.close();

    // A store that already has a position keeps it.
    store = new SqliteAgentStore(':memory:');
    store.record(makeAlarm({ id: '50' }), 's');
    await write('http://mine');
    expect(importLegacyCursor(store, legacy, 'http://mine')).toBe(false);
    expect(store.load().position?.id).toBe('50');
    store.close();
  });
});

describe('the agent after a crash', () => {
  it('shows what was recorded but never shown, once, marked recovered, before connecting', async () => {
    const path = join(dir, 'state.sqlite');
    const store = new SqliteAgentStore(path);
    const shown = makeAlarm({ id: '7' });
    const inFlight = makeAlarm({ id: '8' });
    store.record(shown, 's');
    store.markShown(shown);
    // The process died here: 8 is on disk, nobody saw it.
    store.record(inFlight, 's');
    store.close();
    const server = await startScenarioServer();
    const agent = new Agent(
      { server: server.url, token: 't', sleepDetection: false },
      { store: new SqliteAgentStore(path) },
    );
    const seen: [string, boolean, boolean][] = [];
    agent.on('alarm', (a, info) => seen.push([a.id, info.recovered, info.replayed]));
    try {
      await agent.start();
      expect(seen).toEqual([['8', true, true]]);
      const r = await server.next();
      expect(r.req.headers['last-event-id']).toBe('8');
      openSse(r.res);
      // The server replays 8 anyway (say, its position write was lost): not shown again.
      r.res.write(alarmFrame(inFlight));
      r.res.write(readyFrame({ heartbeatMs: 60_000, cursor: '8', storeId: 's' }));
      await waitFor('live', () => agent.state.status === 'live');
      expect(seen).toHaveLength(1);
    } finally {
      await agent.stop();
      await server.close();
    }
    const again = new SqliteAgentStore(path);
    expect(again.load().unshown).toEqual([]);
    again.close();
  });
});

describe('the agent with a failing store', () => {
  it('warns once while writes fail (another process holds the lock), and again only after a recovery', async () => {
    const server = await startScenarioServer();
    const path = join(dir, 'state.sqlite');
    const agent = new Agent(
      { server: server.url, token: 't', sleepDetection: false },
      { store: new SqliteAgentStore(path, { busyTimeoutMs: 10 }) },
    );
    const warnings: AgentWarning[] = [];
    const ids: string[] = [];
    agent.on('warning', (w) => warnings.push(w));
    agent.on('alarm', (a) => ids.push(a.id));
    try {
      await agent.start();
      const r = await server.next();
      openSse(r.res);
      r.res.write(readyFrame({ heartbeatMs: 60_000, cursor: null, storeId: 's' }));
      await waitFor('live', () => agent.state.status === 'live');
      // Hold the write lock from another connection, as another process would.
      const other = new DatabaseSync(path);
      other.exec('BEGIN IMMEDIATE');
      for (let i = 1; i <= 30; i++) r.res.write(alarmFrame(makeAlarm({ id: String(i) })));
      await waitFor('30 alarms', () => ids.length === 30);
      expect(warnings.filter((w) => w.code === 'cursor-write-failed')).toHaveLength(1);
      other.exec('ROLLBACK');
      r.res.write(alarmFrame(makeAlarm({ id: '31' })));
      await waitFor('alarm 31', () => ids.length === 31);
      other.exec('BEGIN IMMEDIATE');
      r.res.write(alarmFrame(makeAlarm({ id: '32' })));
      await waitFor('alarm 32', () => ids.length === 32);
      other.exec('ROLLBACK');
      other.close();
      expect(warnings.filter((w) => w.code === 'cursor-write-failed')).toHaveLength(2);
    } finally {
      await agent.stop();
      await server.close();
    }
  });
});

describe('alarm history (desktop window)', () => {
  it('keeps the newest N, persists them, and seeds de-duplication oldest first', async () => {
    const path = join(dir, 'history.json');
    const history = new AlarmHistory({ limit: 3, path });
    for (let i = 1; i <= 5; i++) history.add(makeAlarm({ id: String(i) }), 1_000 + i);
    expect(history.list().map((e) => e.alarm.id)).toEqual(['5', '4', '3']);
    expect(history.ids()).toEqual(['3', '4', '5']);
    await history.flush();

    const reloaded = new AlarmHistory({ limit: 3, path });
    expect(await reloaded.load()).toBe(true);
    expect(reloaded.list().map((e) => [e.alarm.id, e.receivedAt])).toEqual([
      ['5', 1_005],
      ['4', 1_004],
      ['3', 1_003],
    ]);
  });

  it('starts empty on a damaged file', async () => {
    const path = join(dir, 'history.json');
    await writeFile(path, '{"version":1,"entries":[{"alarm":{}}]}');
    const history = new AlarmHistory({ path });
    expect(await history.load()).toBe(false);
    expect(history.list()).toEqual([]);
  });
});
