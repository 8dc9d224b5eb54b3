import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCursorStore } from '../../client/cursor.ts';
import { AlarmHistory } from '../../client/history.ts';
import { makeAlarm } from '../helpers/client-sse-server.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-cursor-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('file cursor store', () => {
  it('has no cursor before the first save, then survives a new instance (a restart)', async () => {
    const path = join(dir, 'nested', 'cursor.json');
    expect(await new FileCursorStore(path, 'http://s').load()).toEqual({ cursor: null });
    await new FileCursorStore(path, 'http://s').save({ id: '42', storeId: 'abc' });
    expect(await new FileCursorStore(path, 'http://s').load()).toEqual({
      cursor: { id: '42', storeId: 'abc' },
    });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      version: 1,
      server: 'http://s',
      id: '42',
    });
  });

  it('coalesces a burst of saves to the latest value, leaving no temp files', async () => {
    const path = join(dir, 'cursor.json');
    const store = new FileCursorStore(path, 'http://s');
    const saves = Array.from({ length: 500 }, (_, i) => store.save({ id: String(i + 1), storeId: 's' }));
    await Promise.all(saves);
    await store.flush();
    expect((await store.load()).cursor).toEqual({ id: '500', storeId: 's' });
    expect(await readdir(dir)).toEqual(['cursor.json']);
  });

  it.each([
    ['garbage', 'not json at all'],
    ['truncated', '{"version":1,"server":"http://s","id":"4'],
    ['wrong shape', '{"version":1,"server":"http://s","id":"drop table","storeId":null,"savedAt":1}'],
    ['empty', ''],
  ])('reports a %s file as corrupt instead of failing', async (_name, content) => {
    const path = join(dir, 'cursor.json');
    await writeFile(path, content);
    const loaded = await new FileCursorStore(path, 'http://s').load();
    expect(loaded.cursor).toBeNull();
    expect(loaded.problem?.code).toBe('cursor-corrupt');
    expect(loaded.problem?.message).toContain(path);
  });

  it('reports an unreadable cursor path', async () => {
    const path = join(dir, 'cursor.json');
    await mkdir(path);
    const loaded = await new FileCursorStore(path, 'http://s').load();
    expect(loaded.problem?.code).toBe('cursor-unreadable');
  });

  it('rejects the save promise when the directory is not writable, and recovers later', async () => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions; use a path below a regular file instead.
      const blocker = join(dir, 'file');
      await writeFile(blocker, '');
      const store = new FileCursorStore(join(blocker, 'cursor.json'), 'http://s');
      await expect(store.save({ id: '1', storeId: null })).rejects.toThrow();
      return;
    }
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    const store = new FileCursorStore(join(locked, 'cursor.json'), 'http://s');
    await expect(store.save({ id: '1', storeId: null })).rejects.toThrow();
    await chmod(locked, 0o700);
    await store.save({ id: '2', storeId: null });
    expect((await store.load()).cursor?.id).toBe('2');
  });
});

describe('alarm history', () => {
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
